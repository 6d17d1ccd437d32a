// Server configuration: defaults, then a TOML file, then command-line flags
// (applied by the CLI on top of the loaded struct). Unknown keys in the file are
// errors, so a typo never silently falls back to a default.
//
//   [server]          listen, workers, body_limit_bytes, upload_limit_bytes, header_timeout_ms,
//                     body_timeout_ms, drain_timeout_ms
//   [serving]         model_repository, max_text_bytes, poll_repository_ms
//   [prediction_log]  path, store_inputs, queue_capacity, max_batch, flush_interval_ms
//   [feedback], [support], [rollout], [retrain], [monitor], [slo], [alerts],
//   [tracing], [rate_limit], [auth], [gateway], [audit]  see the structs below
//   [logging]         level, format ("logfmt" | "json")
//   data_dir          top-level key
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "core/logging.h"
#include "core/status.h"

namespace closedloop {

struct ServerConfig {
  std::string host = "127.0.0.1";
  uint16_t port = 4000;  // 0: pick a free port (printed in the ready line)
  int workers = 0;       // io threads, one io_context each; 0 = number of cores
  size_t body_limit_bytes = 1 << 20;
  // Routes that take uploads (MLflow artifact PUT): their own, larger limit.
  size_t upload_limit_bytes = size_t{256} << 20;
  // A request's complete header must arrive within this time after the previous
  // response (or the connect): closes idle keep-alive and slow-trickle clients.
  int header_timeout_ms = 15000;
  int body_timeout_ms = 30000;   // the body must arrive within this after the header
  int drain_timeout_ms = 10000;  // on SIGTERM: how long in-flight requests may finish
  // WebSocket connections (/v1/stream): a connection silent this long gets a ping,
  // and is closed when the pong does not come within the same time again.
  int websocket_idle_timeout_ms = 30000;
  // HTTPS and WSS when both are set (PEM files: the certificate chain and its key).
  std::string tls_cert_file, tls_key_file;
  size_t websocket_max_message_bytes = 65536;  // larger messages: close 1009
  size_t websocket_max_queued = 64;            // replies waiting to be written; then reading pauses
};

struct ServingConfig {
  std::string model_repository;  // empty: <data_dir>/models
  size_t max_text_bytes = 10000;
  // Body limit of POST /v1/predict and /v1/inference, which carry images (a 224x224x3
  // JSON tensor is about 1.5 MB); 0: server.body_limit_bytes.
  size_t image_body_limit_bytes = 16 << 20;
  int poll_repository_ms = 2000;  // > 0: reload changed models every this many ms; 0: never
};

struct PredictionLogConfig {
  std::string path;  // empty: <data_dir>/predictions.db
  bool store_inputs = true;
  size_t queue_capacity = 65536;  // records waiting for the writer; beyond it they are dropped
  size_t max_batch = 4096;        // records per group-commit transaction
  int flush_interval_ms = 5;      // how often the writer wakes when idle
};

// [feedback]: how feedback is scored (see feedback/scores.h for the formulas).
struct FeedbackConfig {
  std::string sentiment_model = "comment-sentiment@champion";  // scores comments; "" = none
  double w_click = 0.4, w_dwell = 0.4, w_scroll = 0.2, dwell_rate = 0.05;
  double w_rating = 0.5, w_comment = 0.3, w_nps = 0.2;
};

// [support]: the support app's rules file (examples/support/support.toml in `up`).
struct SupportConfig {
  std::string rules_file;  // empty: no support app routes
};

// [rollout]: how a challenger is rolled out (rollout/rollout_policy.h uses these).
struct RolloutConfig {
  bool auto_start = true;     // start a rollout when a served model gets a @challenger alias
  double shadow_share = 0.5;  // share of the champion's requests mirrored in shadow; 0: no shadow
  int64_t shadow_min_samples = 200;   // mirrored requests before shadow is judged
  double shadow_min_agreement = 0.5;  // challenger/champion label agreement in shadow, at least
  std::vector<double> canary_steps = {1, 5, 25, 50, 100};  // percent; reaching 100 promotes
  double alpha = 0.05;                                     // one-sided level of each harm test
  double power = 0.8;                                      // for the sample sizes
  double score_delta = 0.1;    // smallest drop of the mean feedback score to detect; 0: not tested
  double error_delta = 0.01;   // smallest rise of the failure rate to detect
  int64_t min_requests = 100;  // per arm and step, at least
  int64_t min_feedback = 30;   // feedback scores per arm and step, at least
  double latency_tolerance = 0.5;     // challenger p99 may exceed the champion's by this share
  double latency_tolerance_ms = 1.0;  // ... and by this much: sub-millisecond noise is no harm
  int evaluate_interval_ms = 1000;
};

// [retrain]: retraining a text model from its feedback (learn/retrainer.h).
struct RetrainConfig {
  std::string model;             // retrained automatically; "" = only `closedloop retrain`
  int64_t min_new_labels = 50;   // human labels since the last retraining that trigger one; 0: off
  int64_t schedule_minutes = 0;  // also retrain every this many minutes; 0: off
  std::string must_pass;         // CSV text,label of inquiries each candidate must get right
  std::string holdout;           // fixed holdout; "" = the champion's run's test file
  double max_holdout_drop = 0.01;  // accuracy points (0.01 = 1 point) below the champion, at most
  double human_label_weight = 2;   // a person's label counts this many original rows
  double weak_positive_min_score = 0.8;  // feedback score from which a served answer is a positive
  double max_inverse_propensity = 10;    // cap of the 1/propensity weight
  int64_t recent_labels = 200;           // recent human labels evaluated besides the holdout
  int check_interval_ms = 2000;          // how often the triggers are checked
  int threads = 0;                       // training threads; 0 = cores (1: reproducible)
  // "scratch": train the champion's recipe on original data + feedback. "fine_tune"
  // (mlp champions): continue the champion's weights on the feedback examples only,
  // rehearsing `replay_size` original rows, with the EWC penalty `ewc_lambda`
  // (learn/text_trainer.h); the holdout gate then measures forgetting.
  std::string mode = "scratch";
  int64_t replay_size = 4000;
  double ewc_lambda = 1e7;
  // How labeling tasks' answers become one label: [labeling] aggregation, copied here
  // by the config loader (learn/aggregated_labels.h).
  std::string label_aggregation = "dawid_skene";
};

// [labeling]: active learning on live traffic and the annotation rules
// (learn/labeling_selector.h, learn/annotation_store.h).
struct LabelingConfig {
  std::string model;  // whose traffic is selected every interval_ms; "" = only on request
  std::string strategy = "margin";  // least_confidence | margin | entropy | qbc | random
  bool diversity = true;            // k-center greedy over sentence vectors
  double diversity_pool = 4;        // top candidates per pick that k-center chooses among
  double random_share = 0.1;        // of each batch, drawn uniformly (unbiased estimates)
  int64_t batch = 20;               // tasks per selection
  int64_t budget_per_hour = 200;    // tasks selected per model per rolling hour; 0: no limit
  int64_t budget_per_day = 2000;    // ... per rolling day; 0: no limit
  int64_t candidate_window = 5000;  // newest unqueued predictions considered
  int interval_ms = 60000;          // how often the model's traffic is selected from
  int overlap = 2;                  // answers a task needs
  int max_overlap = 3;              // when the first `overlap` disagree
  double gold_share = 0.1;          // of each queue page, gold items (when there are any)
  int64_t hard_min_gold = 3;        // gold answers before an annotator's accuracy counts
  double hard_min_accuracy = 0.8;   // gold accuracy needed to get hard tasks
  bool accept_new_labels = false;   // labels the model does not know are accepted
  std::string aggregation = "dawid_skene";  // dawid_skene | majority: labels for retraining
};

// [monitor]: live drift of text models against their reference profiles.
struct MonitorConfig {
  int64_t window_predictions = 1000;  // a window: the model's newest N predictions
  int64_t window_minutes = 0;  // > 0: windows by time instead, the last N minutes' predictions
  int64_t min_window = 100;    // fewer predictions: "not enough data"
  int64_t min_labels = 30;     // human labels in the window before label drift is tested
  int interval_ms = 60000;     // how often served text models are checked; 0: on request only
  int mmd_permutations = 100;
  int64_t max_vectors = 300;        // sentence vectors of the window in the MMD test
  double alpha = 0.05;              // after Benjamini-Hochberg over the window's tests
  bool retrain_on_critical = true;  // CRITICAL drift requests a retraining of the model
  double accuracy_drop =
      0.05;  // accuracy on people's labels this far below the reference: CRITICAL
};

// Service level objectives computed in the binary (monitor/slo_monitor.h) from the
// request metrics; the multi-window burn-rate alerts go to [alerts].
struct SloConfig {
  double availability = 0.999;  // share of non-5xx answers; 0: no availability SLO
  double latency = 0.95;        // share answered within latency_threshold_ms; 0: no latency SLO
  double latency_threshold_ms = 100;  // must be a bound of the request-duration histogram
  int64_t window_days = 28;           // compliance period of the error budget
  // Route labels that count (metrics' `route`); the inference and feedback routes by default.
  std::vector<std::string> routes = {"/v1/predict",
                                     "/v1/inference",
                                     "/v2/models/{model}/infer",
                                     "/v2/models/{model}/versions/{version}/infer",
                                     "/v1/support/inquiries",
                                     "/v1/feedback",
                                     "/v1/feedback:batch"};
  int interval_ms = 10000;    // how often the SLIs are sampled and the alerts evaluated
  int64_t min_requests = 20;  // requests in a rule's short window before it may fire
  // The request-rate, error-rate and latency history (monitor/metrics_history.h)
  // that the console's overview charts: one point every history_interval_ms, the
  // newest history_points kept in memory (default: 6 hours).
  int history_interval_ms = 10000;
  int64_t history_points = 2160;
};

// Where alerts go besides the log and GET /v1/alerts.
struct AlertsConfig {
  std::vector<std::string> webhooks;  // http:// URLs; each alert event is POSTed as JSON
  int webhook_timeout_ms = 5000;
  int retry_initial_ms = 1000;  // backoff after a failed delivery, doubling ...
  int retry_max_ms = 300000;    // ... up to this; deliveries are retried until they succeed
};

// Authentication and scopes (auth/auth_admission.h). JWT keys are files; API
// keys live in <data_dir>/auth.db (`closedloop keys`).
struct AuthConfig {
  bool enabled = false;                   // require credentials on every route but /v2/health/*
  bool enabled_set = false;               // the config file said; `up` turns auth on otherwise
  bool public_metrics = false;            // /metrics without credentials
  std::string jwt_hs256_secret_file;      // "": <data_dir>/auth/jwt-hs256.key when it exists
  std::string jwt_rs256_public_key_file;  // PEM
  std::string jwt_es256_public_key_file;  // PEM
  std::string issuer = "closedloop";      // required `iss`; "" = not checked
  std::string audience = "closedloop";    // required in `aud`; "" = not checked
  int64_t leeway_s = 30;                  // clock skew allowed on exp and nbf
};

// Rate limits in front of the routes (gateway/rate_limit_admission.h).
struct RateLimitRule {
  std::string name;  // a principal (API key name, JWT subject) or a scope
  double rate = 0;   // requests per second
  double burst = 0;  // 0: the rate
};
struct RateLimitConfig {
  double per_ip_rate = 0;   // requests per second per client address (unauthenticated); 0: none
  double per_ip_burst = 0;  // bucket size; 0: the rate (one second's worth)
  // Authenticated requests: the principal's own rule, else the most generous rule
  // of its scopes ("roles"), else per_principal_rate; 0: the per-IP limit applies.
  double per_principal_rate = 0;
  double per_principal_burst = 0;
  std::vector<RateLimitRule> principals;  // [rate_limit.principals] NAME = { rate, burst }
  std::vector<RateLimitRule> scopes;      // [rate_limit.scopes] SCOPE = { rate, burst }
  // Failed authentication per client address (with [auth]): each invalid
  // credential takes a token; with none left the address gets 429 until refilled.
  double failed_auth_rate = 0.5;
  double failed_auth_burst = 30;
  size_t max_keys = 100000;  // buckets kept at most (idle full buckets are evicted first)
  std::vector<std::string> exempt_routes = {"/v2/health/live", "/v2/health/ready", "/health",
                                            "/metrics"};
};

// W3C trace context and span export (monitor/otlp_exporter.h).
struct TracingConfig {
  std::string otlp_endpoint;  // http://HOST:PORT/v1/traces; "" = spans only in the logs
  double sample_ratio = 1.0;  // share of new traces (without a sampled parent) exported
  // Requests slower than this are logged (warn) with trace id and span timings; 0: never.
  // Every request's line, with its spans, is logged at debug level.
  int64_t slow_request_ms = 1000;
  int export_interval_ms = 1000;
  size_t max_queue = 8192;  // spans waiting for export; beyond it they are dropped (counted)
};

// The gateway role (`closedloop serve --role gateway`, gateway/proxy.h): where
// requests are forwarded, and how failures of an upstream are handled.
struct GatewayConfig {
  std::vector<std::string> upstreams;  // http://HOST:PORT of inference replicas
  int try_timeout_ms = 2000;           // one attempt on one upstream
  int timeout_ms = 5000;               // all attempts of one request together
  double retry_budget_ratio = 0.2;     // retries at most this share of requests ...
  int retry_budget_min = 10;           // ... plus this many (the budget's initial tokens)
  size_t max_idle_per_upstream = 256;  // pooled keep-alive connections per upstream and io thread
  // Requests in flight on one upstream connection (HTTP/1.1 pipelining; 1: none).
  // Those of one turn of an io thread's loop go out in one write.
  size_t pipeline_depth = 4;
  size_t max_response_bytes = 64 << 20;
  int health_interval_ms = 1000;  // active health check: GET /v2/health/ready on each upstream
  int health_timeout_ms = 500;
  int healthy_threshold = 2;    // consecutive good checks before an upstream takes traffic again
  int unhealthy_threshold = 2;  // consecutive failed checks before it takes none
  // Circuit breaker per upstream (gateway/circuit_breaker.h).
  int breaker_consecutive_failures = 5;
  double breaker_failure_rate = 0.5;  // over the window, with at least breaker_min_requests
  int64_t breaker_min_requests = 20;
  int breaker_window_ms = 10000;
  int breaker_open_ms = 500;        // first wait before half-open probes, doubling ...
  int breaker_max_open_ms = 30000;  // ... up to this while probes fail
  int breaker_close_successes = 3;  // successful probes that close it
};

// The audit log (gateway/audit_log.h): one JSON line per answered request.
struct AuditConfig {
  bool enabled = false;
  std::string path;                // "": <data_dir>/audit/audit.log
  int64_t max_bytes = 100 << 20;   // the file is rotated beyond this size ...
  int max_files = 10;              // ... keeping this many rotated files
  std::string fsync = "interval";  // "always" (every write), "interval", "never"
  int fsync_interval_ms = 1000;
  bool include_input = false;     // the raw request body too, not only its SHA-256
  size_t queue_capacity = 65536;  // lines waiting for the writer; beyond, dropped (counted)
};

struct Config {
  std::string data_dir = "./closedloop-data";
  ServerConfig server;
  ServingConfig serving;
  PredictionLogConfig prediction_log;
  FeedbackConfig feedback;
  SupportConfig support;
  RolloutConfig rollout;
  RetrainConfig retrain;
  LabelingConfig labeling;
  MonitorConfig monitor;
  SloConfig slo;
  AlertsConfig alerts;
  TracingConfig tracing;
  RateLimitConfig rate_limit;
  AuthConfig auth;
  GatewayConfig gateway;
  AuditConfig audit;
  LogOptions logging;

  std::string ModelRepositoryPath() const;
  std::string PredictionLogPath() const;
};

// Reads a TOML file over the defaults. Errors name the file, the key and the problem.
StatusOr<Config> LoadConfigFile(const std::string& path);
// The [gateway] numbers (also applied to values set by the CLI).
Status ValidateGatewayConfig(const GatewayConfig& config);
StatusOr<Config> ParseConfig(std::string_view toml_text, std::string_view source_name);

// Parses "HOST:PORT" (port 0 allowed) into config.host / config.port.
Status ParseListenAddress(std::string_view listen, ServerConfig& config);

}  // namespace closedloop
