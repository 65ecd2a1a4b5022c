// kepuasan: what the survey pages and the dashboard share, served in front of either script
// (src/pages/static_files.rs joins them). One global, `kepuasan`, holds it: HTML escaping, the page's configuration, a translator over a
// page's own string tables, and requests to this server's API with a key.
"use strict";

(function () {
  const ESCAPES = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

  // Text made safe to put inside HTML, an attribute included.
  function esc(text) {
    return String(text).replace(/[&<>"']/g, (c) => ESCAPES[c]);
  }

  // The configuration the server put in the page as JSON data (never as inline script).
  function config() {
    const element = document.getElementById("kepuasan-config");
    return JSON.parse((element && element.textContent) || "{}");
  }

  // `t(key)` in the language `lang()` gives now: Bahasa Indonesia tables first, English beside.
  function translator(tables, lang) {
    return (key) => tables[lang()][key];
  }

  // A request to this server: the key (when there is one) as a bearer token, a JSON body
  // (when there is one) with its content type. The answer is returned whatever its status.
  function request(path, key, init = {}) {
    const headers = { ...(init.headers || {}) };
    if (key) headers.Authorization = "Bearer " + key;
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { ...init, headers });
  }

  window.kepuasan = Object.freeze({ esc, config, translator, request });
})();
