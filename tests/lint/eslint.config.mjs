// eslint for the pages' scripts: browser globals, classic scripts (not modules), eslint's
// recommended rules and a few that catch what review kept finding by hand.
import js from "@eslint/js";
import globals from "globals";

export default [
  js.configs.recommended,
  {
    files: ["**/*.js"],
    languageOptions: {
      ecmaVersion: 2022,
      sourceType: "script",
      globals: { ...globals.browser },
    },
    rules: {
      eqeqeq: ["error", "always"],
      "no-var": "error",
      "prefer-const": "error",
      "no-implicit-globals": "error",
      "no-unused-vars": ["error", { args: "after-used", caughtErrors: "none" }],
      "no-shadow": "error",
    },
  },
  {
    files: ["**/sw.js"],
    languageOptions: { globals: { ...globals.serviceworker } },
  },
];
