// The web console's routes (public: the pages hold no data; every figure comes
// from the JSON APIs, called by the page with the session cookie):
//   GET  /ui/                 overview: traffic, latency, SLOs, alerts
//   GET  /ui/models|runs|drift|feedback|rollouts   the console's other pages
//        (all console.html; console.js loads page-NAME.js, which reads the JSON APIs)
//   GET  /ui/login            sign in with an API key or a JWT
//   GET  /ui/label            the labeling page (learn/labeling_api.h)
//   GET  /ui/assets/{name}    scripts and styles (src/ui/assets)
//   POST /ui/login {"token"}  checks the token; sets the session cookie
//        `closedloop_session` (HttpOnly; SameSite=Strict; Path=/; Secure over TLS)
//        and the CSRF cookie `closedloop_csrf` that the page echoes in the
//        X-CSRF-Token header of every state-changing call (auth/auth_admission.h).
//        200 {subject, scopes}; 401 for a bad token; without [auth], 200 {auth: false}.
//   POST /ui/logout           clears both cookies
// Every response carries a Content-Security-Policy without inline scripts or
// styles, and no page fetches anything from another origin.
// Thread safety: handlers are stateless but for the (thread-safe) admission.
#pragma once

#include "auth/auth_admission.h"
#include "http/router.h"

namespace closedloop {

// `auth` may be null (no [auth]); it must outlive the router's use.
void RegisterUiRoutes(Router& router, AuthAdmission* auth, bool tls);

}  // namespace closedloop
