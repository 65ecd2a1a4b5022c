// kepuasan: what the survey pages and the dashboard share, served in front of either script
// (src/pages/static_files.rs joins them). One global, `kepuasan`, holds it: HTML escaping, the page's configuration, a translator over a
// page's own string tables, requests to this server's API with a key, and signing a person in.
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
  // The language the server's messages should be in: the page's own.
  const pageLanguage = () => document.documentElement.lang || "id";
  function request(path, key, init = {}) {
    const headers = { "Accept-Language": pageLanguage(), ...(init.headers || {}) };
    if (key) headers.Authorization = "Bearer " + key;
    if (init.body !== undefined) headers["Content-Type"] = "application/json";
    return fetch(path, { ...init, headers });
  }

  // The time zones of Indonesia as Indonesians name them; any other by its IANA name.
  const ZONES = [["Asia/Jakarta", "WIB"], ["Asia/Pontianak", "WIB"], ["Asia/Makassar", "WITA"], ["Asia/Jayapura", "WIT"]];
  function zoneLabel(tz) {
    return (ZONES.find(([z]) => z === tz) || [tz, tz])[1];
  }

  // Signs a person in with a user name, a password and, when the server asks for it, the
  // six-digit code of their authenticator app. Answers { person } (the session, with its CSRF
  // token), or { problem } with "wrong", "code" (a code is needed, or was wrong) or "wait"
  // (too many failures; `seconds` until the next try).
  async function signIn(username, password, totp) {
    const body = { username, password };
    if (totp) body.totp = totp;
    const res = await fetch("/api/v1/sessions", { method: "POST", headers: { "Content-Type": "application/json", "Accept-Language": pageLanguage() }, credentials: "same-origin", body: JSON.stringify(body) });
    const answer = await res.json().catch(() => ({}));
    if (res.status === 201) return { person: answer };
    if (res.status === 429) return { problem: "wait", seconds: Number(res.headers.get("Retry-After") || 900) };
    return { problem: answer.error === "totp_required" ? "code" : "wrong" };
  }

  // The sign-in form, alike on every page: `words` gives its labels in the page's language,
  // `name` the user name typed before, `code` whether to ask for the two-step code.
  function signInForm(words, name, code) {
    const field = (id, label, input) => `<div><label for="${id}">${label}</label>${input}</div>`;
    return `<form id="sign-in" class="panel stack">
      ${field("username", words.username, `<input id="username" autocomplete="username" autocapitalize="none" required maxlength="64" value="${esc(name || "")}">`)}
      ${field("password", words.password, '<input id="password" type="password" autocomplete="current-password" required>')}
      ${code ? field("totp", words.totpCode, `<input id="totp" inputmode="numeric" autocomplete="one-time-code" pattern="[0-9 ]{6,8}" maxlength="8" required aria-describedby="totp-hint"><span class="hint" id="totp-hint">${words.totpHint}</span>`) : ""}
      <div><button type="submit">${words.signIn}</button></div></form>`;
  }

  // What a refused sign-in says, in `words`.
  function signInProblem(words, result, withCode) {
    if (result.problem === "wait") return words.wait(result.seconds);
    if (result.problem === "code") return withCode ? words.codeWrong : words.codeAsk;
    return words.wrong;
  }

  window.kepuasan = Object.freeze({ esc, config, translator, request, signIn, signInForm, signInProblem, zoneLabel });
})();
