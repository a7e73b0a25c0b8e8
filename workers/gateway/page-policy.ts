/**
 * The Content-Security-Policy of the gateway's HTML pages (`/_ops`, `/docs`). They share one
 * origin, and the dashboard keeps the operator token in the tab's sessionStorage, so every page
 * may run only the gateway's own files (plus, for /docs, one inline script named by its hash) and
 * talk only to its own origin: nothing else inline, no other host. Styles set through the CSSOM
 * (uPlot's canvas, Swagger UI's React) are allowed by `style-src 'self'`.
 */
export const pagePolicy = (inlineScriptHashes: readonly string[] = []): string =>
  [
    "default-src 'none'",
    ["script-src 'self'", ...inlineScriptHashes].join(' '),
    "style-src 'self'",
    "connect-src 'self'",
    "img-src 'self' data:",
    "base-uri 'none'",
    "form-action 'none'",
    "frame-ancestors 'none'",
  ].join('; ');
