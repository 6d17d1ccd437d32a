#include "core/config.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>
#include <tuple>

#include <toml++/toml.h>

namespace closedloop {
namespace {

Status CheckKeys(const toml::table& table, std::string_view section,
                 const std::set<std::string_view>& allowed) {
  for (const auto& [key, value] : table) {
    if (!allowed.count(key.str())) {
      return InvalidArgument("unknown key '" + std::string(section) + (section.empty() ? "" : ".") +
                             std::string(key.str()) + "'");
    }
  }
  return OkStatus();
}

template <typename T>
Status Read(const toml::table& table, std::string_view section, std::string_view key, T& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return OkStatus();
  auto where = std::string(section) + "." + std::string(key);
  if constexpr (std::is_same_v<T, bool>) {
    if (!node->is_boolean()) return InvalidArgument("'" + where + "' must be a boolean");
    out = node->value<bool>().value();
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!node->is_string()) return InvalidArgument("'" + where + "' must be a string");
    out = node->value<std::string>().value();
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!node->is_number()) return InvalidArgument("'" + where + "' must be a number");
    out = node->value<double>().value();
  } else {
    if (!node->is_integer()) return InvalidArgument("'" + where + "' must be an integer");
    int64_t v = node->value<int64_t>().value();
    if (v < 0) return InvalidArgument("'" + where + "' must not be negative");
    out = static_cast<T>(v);
  }
  return OkStatus();
}

Status ReadStrings(const toml::table& table, std::string_view section, std::string_view key,
                   std::vector<std::string>& out) {
  const toml::node* node = table.get(key);
  if (node == nullptr) return OkStatus();
  auto where = std::string(section) + "." + std::string(key);
  const toml::array* arr = node->as_array();
  if (arr == nullptr) return InvalidArgument("'" + where + "' must be an array of strings");
  out.clear();
  for (const auto& item : *arr) {
    auto v = item.value<std::string>();
    if (!v) return InvalidArgument("'" + where + "' must be an array of strings");
    out.push_back(*v);
  }
  return OkStatus();
}

const toml::table* Section(const toml::table& root, std::string_view name) {
  const toml::node* n = root.get(name);
  return n ? n->as_table() : nullptr;
}

}  // namespace

std::string Config::ModelRepositoryPath() const {
  return serving.model_repository.empty() ? data_dir + "/models" : serving.model_repository;
}

std::string Config::PredictionLogPath() const {
  return prediction_log.path.empty() ? data_dir + "/predictions.db" : prediction_log.path;
}

Status ParseListenAddress(std::string_view listen, ServerConfig& config) {
  auto colon = listen.rfind(':');
  if (colon == std::string_view::npos || colon == 0) {
    return InvalidArgument("listen address '" + std::string(listen) + "' must be HOST:PORT");
  }
  std::string_view port_text = listen.substr(colon + 1);
  unsigned port = 0;
  auto [ptr, ec] = std::from_chars(port_text.data(), port_text.data() + port_text.size(), port);
  if (ec != std::errc() || ptr != port_text.data() + port_text.size() || port > 65535) {
    return InvalidArgument("listen port '" + std::string(port_text) + "' must be 0-65535");
  }
  config.host = std::string(listen.substr(0, colon));
  config.port = static_cast<uint16_t>(port);
  return OkStatus();
}

StatusOr<Config> ParseConfig(std::string_view toml_text, std::string_view source_name) {
  toml::table root;
  try {
    root = toml::parse(toml_text, source_name);
  } catch (const toml::parse_error& e) {
    std::ostringstream msg;
    msg << source_name << ":" << e.source().begin.line << ":" << e.source().begin.column << ": "
        << e.description();
    return InvalidArgument(msg.str());
  }
  Config c;
  RETURN_IF_ERROR(
      CheckKeys(root, "",
                {"data_dir", "server", "serving", "prediction_log", "feedback", "support",
                 "rollout", "retrain", "labeling", "monitor", "slo", "alerts", "tracing",
                 "rate_limit", "auth", "gateway", "audit", "logging"}));
  RETURN_IF_ERROR(Read(root, "", "data_dir", c.data_dir));
  if (const auto* s = Section(root, "server")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "server",
        {"listen", "workers", "body_limit_bytes", "upload_limit_bytes", "header_timeout_ms",
         "body_timeout_ms", "drain_timeout_ms", "websocket_idle_timeout_ms",
         "websocket_max_message_bytes", "websocket_max_queued", "tls_cert_file", "tls_key_file"}));
    RETURN_IF_ERROR(Read(*s, "server", "tls_cert_file", c.server.tls_cert_file));
    RETURN_IF_ERROR(Read(*s, "server", "tls_key_file", c.server.tls_key_file));
    std::string listen;
    RETURN_IF_ERROR(Read(*s, "server", "listen", listen));
    if (!listen.empty()) RETURN_IF_ERROR(ParseListenAddress(listen, c.server));
    RETURN_IF_ERROR(Read(*s, "server", "workers", c.server.workers));
    RETURN_IF_ERROR(Read(*s, "server", "body_limit_bytes", c.server.body_limit_bytes));
    RETURN_IF_ERROR(Read(*s, "server", "upload_limit_bytes", c.server.upload_limit_bytes));
    RETURN_IF_ERROR(Read(*s, "server", "header_timeout_ms", c.server.header_timeout_ms));
    RETURN_IF_ERROR(Read(*s, "server", "body_timeout_ms", c.server.body_timeout_ms));
    RETURN_IF_ERROR(Read(*s, "server", "drain_timeout_ms", c.server.drain_timeout_ms));
    RETURN_IF_ERROR(
        Read(*s, "server", "websocket_idle_timeout_ms", c.server.websocket_idle_timeout_ms));
    RETURN_IF_ERROR(
        Read(*s, "server", "websocket_max_message_bytes", c.server.websocket_max_message_bytes));
    RETURN_IF_ERROR(Read(*s, "server", "websocket_max_queued", c.server.websocket_max_queued));
    if (c.server.websocket_idle_timeout_ms <= 0 || c.server.websocket_max_message_bytes == 0 ||
        c.server.websocket_max_queued == 0) {
      return InvalidArgument(
          "'server.websocket_idle_timeout_ms', 'server.websocket_max_message_bytes' and "
          "'server.websocket_max_queued' must be > 0");
    }
  }
  if (const auto* s = Section(root, "serving")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "serving",
        {"model_repository", "max_text_bytes", "image_body_limit_bytes", "poll_repository_ms"}));
    RETURN_IF_ERROR(Read(*s, "serving", "poll_repository_ms", c.serving.poll_repository_ms));
    RETURN_IF_ERROR(Read(*s, "serving", "model_repository", c.serving.model_repository));
    RETURN_IF_ERROR(Read(*s, "serving", "max_text_bytes", c.serving.max_text_bytes));
    RETURN_IF_ERROR(
        Read(*s, "serving", "image_body_limit_bytes", c.serving.image_body_limit_bytes));
  }
  if (const auto* s = Section(root, "prediction_log")) {
    RETURN_IF_ERROR(
        CheckKeys(*s, "prediction_log",
                  {"path", "store_inputs", "queue_capacity", "max_batch", "flush_interval_ms"}));
    auto& p = c.prediction_log;
    RETURN_IF_ERROR(Read(*s, "prediction_log", "path", p.path));
    RETURN_IF_ERROR(Read(*s, "prediction_log", "store_inputs", p.store_inputs));
    RETURN_IF_ERROR(Read(*s, "prediction_log", "queue_capacity", p.queue_capacity));
    RETURN_IF_ERROR(Read(*s, "prediction_log", "max_batch", p.max_batch));
    RETURN_IF_ERROR(Read(*s, "prediction_log", "flush_interval_ms", p.flush_interval_ms));
    if (p.queue_capacity == 0)
      return InvalidArgument("'prediction_log.queue_capacity' must be > 0");
    if (p.max_batch == 0) return InvalidArgument("'prediction_log.max_batch' must be > 0");
  }
  if (const auto* s = Section(root, "feedback")) {
    RETURN_IF_ERROR(CheckKeys(*s, "feedback",
                              {"sentiment_model", "w_click", "w_dwell", "w_scroll", "dwell_rate",
                               "w_rating", "w_comment", "w_nps"}));
    auto& f = c.feedback;
    RETURN_IF_ERROR(Read(*s, "feedback", "sentiment_model", f.sentiment_model));
    for (auto [key, field] : {std::pair{"w_click", &f.w_click},
                              {"w_dwell", &f.w_dwell},
                              {"w_scroll", &f.w_scroll},
                              {"dwell_rate", &f.dwell_rate},
                              {"w_rating", &f.w_rating},
                              {"w_comment", &f.w_comment},
                              {"w_nps", &f.w_nps}}) {
      RETURN_IF_ERROR(Read(*s, "feedback", key, *field));
      if (!(*field >= 0))
        return InvalidArgument(std::string("'feedback.") + key + "' must be >= 0");
    }
  }
  if (const auto* s = Section(root, "support")) {
    RETURN_IF_ERROR(CheckKeys(*s, "support", {"rules_file"}));
    RETURN_IF_ERROR(Read(*s, "support", "rules_file", c.support.rules_file));
  }
  if (const auto* s = Section(root, "rollout")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "rollout",
        {"auto_start", "shadow_share", "shadow_min_samples", "shadow_min_agreement", "canary_steps",
         "alpha", "power", "score_delta", "error_delta", "min_requests", "min_feedback",
         "latency_tolerance", "latency_tolerance_ms", "evaluate_interval_ms"}));
    auto& r = c.rollout;
    RETURN_IF_ERROR(Read(*s, "rollout", "auto_start", r.auto_start));
    RETURN_IF_ERROR(Read(*s, "rollout", "shadow_min_samples", r.shadow_min_samples));
    RETURN_IF_ERROR(Read(*s, "rollout", "min_requests", r.min_requests));
    RETURN_IF_ERROR(Read(*s, "rollout", "min_feedback", r.min_feedback));
    RETURN_IF_ERROR(Read(*s, "rollout", "evaluate_interval_ms", r.evaluate_interval_ms));
    for (auto [key, field, lo, hi] :
         {std::tuple{"shadow_share", &r.shadow_share, 0.0, 1.0},
          {"shadow_min_agreement", &r.shadow_min_agreement, 0.0, 1.0},
          {"alpha", &r.alpha, 1e-9, 0.5},
          {"power", &r.power, 0.5, 0.999999},
          {"score_delta", &r.score_delta, 0.0, 2.0},
          {"error_delta", &r.error_delta, 1e-6, 1.0},
          {"latency_tolerance", &r.latency_tolerance, 0.0, 100.0},
          {"latency_tolerance_ms", &r.latency_tolerance_ms, 0.0, 1e6}}) {
      RETURN_IF_ERROR(Read(*s, "rollout", key, *field));
      if (!(*field >= lo && *field <= hi)) {
        return InvalidArgument(std::string("'rollout.") + key + "' must be from " +
                               std::to_string(lo) + " to " + std::to_string(hi));
      }
    }
    if (const toml::node* n = s->get("canary_steps")) {
      const toml::array* a = n->as_array();
      if (a == nullptr || a->empty()) {
        return InvalidArgument("'rollout.canary_steps' must be an array of percentages");
      }
      r.canary_steps.clear();
      for (const auto& e : *a) {
        auto v = e.value<double>();
        if (!v || !(*v > 0 && *v <= 100) ||
            (!r.canary_steps.empty() && *v <= r.canary_steps.back())) {
          return InvalidArgument(
              "'rollout.canary_steps' must be increasing percentages in (0, 100]");
        }
        r.canary_steps.push_back(*v);
      }
    }
    if (r.evaluate_interval_ms <= 0) {
      return InvalidArgument("'rollout.evaluate_interval_ms' must be > 0");
    }
  }
  if (const auto* s = Section(root, "labeling")) {
    RETURN_IF_ERROR(
        CheckKeys(*s, "labeling",
                  {"model", "strategy", "diversity", "diversity_pool", "random_share", "batch",
                   "budget_per_hour", "budget_per_day", "candidate_window", "interval_ms",
                   "overlap", "max_overlap", "gold_share", "hard_min_gold", "hard_min_accuracy",
                   "accept_new_labels", "aggregation"}));
    auto& l = c.labeling;
    RETURN_IF_ERROR(Read(*s, "labeling", "model", l.model));
    RETURN_IF_ERROR(Read(*s, "labeling", "strategy", l.strategy));
    RETURN_IF_ERROR(Read(*s, "labeling", "diversity", l.diversity));
    RETURN_IF_ERROR(Read(*s, "labeling", "diversity_pool", l.diversity_pool));
    RETURN_IF_ERROR(Read(*s, "labeling", "random_share", l.random_share));
    RETURN_IF_ERROR(Read(*s, "labeling", "batch", l.batch));
    RETURN_IF_ERROR(Read(*s, "labeling", "budget_per_hour", l.budget_per_hour));
    RETURN_IF_ERROR(Read(*s, "labeling", "budget_per_day", l.budget_per_day));
    RETURN_IF_ERROR(Read(*s, "labeling", "candidate_window", l.candidate_window));
    RETURN_IF_ERROR(Read(*s, "labeling", "interval_ms", l.interval_ms));
    RETURN_IF_ERROR(Read(*s, "labeling", "overlap", l.overlap));
    RETURN_IF_ERROR(Read(*s, "labeling", "max_overlap", l.max_overlap));
    RETURN_IF_ERROR(Read(*s, "labeling", "gold_share", l.gold_share));
    RETURN_IF_ERROR(Read(*s, "labeling", "hard_min_gold", l.hard_min_gold));
    RETURN_IF_ERROR(Read(*s, "labeling", "hard_min_accuracy", l.hard_min_accuracy));
    RETURN_IF_ERROR(Read(*s, "labeling", "accept_new_labels", l.accept_new_labels));
    RETURN_IF_ERROR(Read(*s, "labeling", "aggregation", l.aggregation));
    if (l.strategy != "least_confidence" && l.strategy != "margin" && l.strategy != "entropy" &&
        l.strategy != "qbc" && l.strategy != "random") {
      return InvalidArgument(
          "'labeling.strategy' must be least_confidence, margin, entropy, qbc or random");
    }
    if (l.aggregation != "dawid_skene" && l.aggregation != "majority") {
      return InvalidArgument("'labeling.aggregation' must be \"dawid_skene\" or \"majority\"");
    }
    if (!(l.random_share >= 0 && l.random_share <= 1)) {
      return InvalidArgument("'labeling.random_share' must be from 0 to 1");
    }
    if (!(l.gold_share >= 0 && l.gold_share <= 1)) {
      return InvalidArgument("'labeling.gold_share' must be from 0 to 1");
    }
    if (!(l.diversity_pool >= 1)) return InvalidArgument("'labeling.diversity_pool' must be >= 1");
    if (l.batch < 1 || l.batch > 10000) {
      return InvalidArgument("'labeling.batch' must be from 1 to 10000");
    }
    if (l.budget_per_hour < 0 || l.budget_per_day < 0) {
      return InvalidArgument("'labeling.budget_per_hour' and 'budget_per_day' must be >= 0");
    }
    if (l.candidate_window < 1) return InvalidArgument("'labeling.candidate_window' must be >= 1");
    if (l.interval_ms <= 0) return InvalidArgument("'labeling.interval_ms' must be > 0");
    if (l.overlap < 1 || l.max_overlap < l.overlap || l.max_overlap > 10) {
      return InvalidArgument(
          "'labeling.overlap' must be >= 1 and <= 'labeling.max_overlap' (<= 10)");
    }
  }
  c.retrain.label_aggregation = c.labeling.aggregation;
  if (const auto* s = Section(root, "retrain")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "retrain",
        {"model", "min_new_labels", "schedule_minutes", "must_pass", "holdout", "max_holdout_drop",
         "human_label_weight", "weak_positive_min_score", "max_inverse_propensity", "recent_labels",
         "check_interval_ms", "threads", "mode", "replay_size", "ewc_lambda"}));
    auto& r = c.retrain;
    RETURN_IF_ERROR(Read(*s, "retrain", "model", r.model));
    RETURN_IF_ERROR(Read(*s, "retrain", "min_new_labels", r.min_new_labels));
    RETURN_IF_ERROR(Read(*s, "retrain", "schedule_minutes", r.schedule_minutes));
    RETURN_IF_ERROR(Read(*s, "retrain", "must_pass", r.must_pass));
    RETURN_IF_ERROR(Read(*s, "retrain", "holdout", r.holdout));
    RETURN_IF_ERROR(Read(*s, "retrain", "max_holdout_drop", r.max_holdout_drop));
    RETURN_IF_ERROR(Read(*s, "retrain", "weak_positive_min_score", r.weak_positive_min_score));
    RETURN_IF_ERROR(Read(*s, "retrain", "human_label_weight", r.human_label_weight));
    if (!(r.human_label_weight >= 0 && r.human_label_weight <= 100)) {
      return InvalidArgument("'retrain.human_label_weight' must be from 0 to 100");
    }
    RETURN_IF_ERROR(Read(*s, "retrain", "max_inverse_propensity", r.max_inverse_propensity));
    RETURN_IF_ERROR(Read(*s, "retrain", "recent_labels", r.recent_labels));
    RETURN_IF_ERROR(Read(*s, "retrain", "check_interval_ms", r.check_interval_ms));
    RETURN_IF_ERROR(Read(*s, "retrain", "threads", r.threads));
    RETURN_IF_ERROR(Read(*s, "retrain", "mode", r.mode));
    if (r.mode != "scratch" && r.mode != "fine_tune") {
      return InvalidArgument("'retrain.mode' must be \"scratch\" or \"fine_tune\"");
    }
    RETURN_IF_ERROR(Read(*s, "retrain", "replay_size", r.replay_size));
    if (r.replay_size < 0) return InvalidArgument("'retrain.replay_size' must be >= 0");
    RETURN_IF_ERROR(Read(*s, "retrain", "ewc_lambda", r.ewc_lambda));
    if (!(r.ewc_lambda >= 0)) return InvalidArgument("'retrain.ewc_lambda' must be >= 0");
    if (!(r.max_holdout_drop >= 0 && r.max_holdout_drop <= 1)) {
      return InvalidArgument("'retrain.max_holdout_drop' must be from 0 to 1");
    }
    if (!(r.max_inverse_propensity >= 1)) {
      return InvalidArgument("'retrain.max_inverse_propensity' must be >= 1");
    }
    if (r.check_interval_ms <= 0) return InvalidArgument("'retrain.check_interval_ms' must be > 0");
  }
  if (const auto* s = Section(root, "monitor")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "monitor",
        {"window_predictions", "min_window", "min_labels", "interval_ms", "mmd_permutations",
         "max_vectors", "alpha", "retrain_on_critical", "accuracy_drop", "window_minutes"}));
    auto& m = c.monitor;
    RETURN_IF_ERROR(Read(*s, "monitor", "window_predictions", m.window_predictions));
    RETURN_IF_ERROR(Read(*s, "monitor", "min_window", m.min_window));
    RETURN_IF_ERROR(Read(*s, "monitor", "min_labels", m.min_labels));
    RETURN_IF_ERROR(Read(*s, "monitor", "interval_ms", m.interval_ms));
    RETURN_IF_ERROR(Read(*s, "monitor", "mmd_permutations", m.mmd_permutations));
    RETURN_IF_ERROR(Read(*s, "monitor", "max_vectors", m.max_vectors));
    RETURN_IF_ERROR(Read(*s, "monitor", "alpha", m.alpha));
    RETURN_IF_ERROR(Read(*s, "monitor", "retrain_on_critical", m.retrain_on_critical));
    RETURN_IF_ERROR(Read(*s, "monitor", "accuracy_drop", m.accuracy_drop));
    RETURN_IF_ERROR(Read(*s, "monitor", "window_minutes", m.window_minutes));
    if (!(m.accuracy_drop > 0 && m.accuracy_drop <= 1)) {
      return InvalidArgument("'monitor.accuracy_drop' must be in (0, 1]");
    }
    if (m.window_predictions < 2 || m.min_window < 2) {
      return InvalidArgument("'monitor.window_predictions' and 'monitor.min_window' must be >= 2");
    }
    if (!(m.alpha > 0 && m.alpha < 1)) return InvalidArgument("'monitor.alpha' must be in (0, 1)");
  }
  if (const auto* s = Section(root, "slo")) {
    RETURN_IF_ERROR(
        CheckKeys(*s, "slo",
                  {"availability", "latency", "latency_threshold_ms", "window_days", "routes",
                   "interval_ms", "min_requests", "history_interval_ms", "history_points"}));
    auto& o = c.slo;
    RETURN_IF_ERROR(Read(*s, "slo", "availability", o.availability));
    RETURN_IF_ERROR(Read(*s, "slo", "latency", o.latency));
    RETURN_IF_ERROR(Read(*s, "slo", "latency_threshold_ms", o.latency_threshold_ms));
    RETURN_IF_ERROR(Read(*s, "slo", "window_days", o.window_days));
    RETURN_IF_ERROR(ReadStrings(*s, "slo", "routes", o.routes));
    RETURN_IF_ERROR(Read(*s, "slo", "interval_ms", o.interval_ms));
    RETURN_IF_ERROR(Read(*s, "slo", "min_requests", o.min_requests));
    RETURN_IF_ERROR(Read(*s, "slo", "history_interval_ms", o.history_interval_ms));
    RETURN_IF_ERROR(Read(*s, "slo", "history_points", o.history_points));
    if (o.history_interval_ms < 10)
      return InvalidArgument("'slo.history_interval_ms' must be >= 10");
    if (o.history_points < 2 || o.history_points > 1000000) {
      return InvalidArgument("'slo.history_points' must be in 2..1000000");
    }
    for (auto [name, v] :
         {std::pair{"slo.availability", o.availability}, {"slo.latency", o.latency}}) {
      if (!(v >= 0 && v < 1)) {
        return InvalidArgument("'" + std::string(name) + "' must be in [0, 1) (0: no such SLO)");
      }
    }
    if (o.window_days < 1) return InvalidArgument("'slo.window_days' must be >= 1");
    if (o.interval_ms <= 0) return InvalidArgument("'slo.interval_ms' must be > 0");
    if (o.routes.empty()) return InvalidArgument("'slo.routes' must name at least one route");
  }
  if (const auto* s = Section(root, "alerts")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "alerts", {"webhooks", "webhook_timeout_ms", "retry_initial_ms", "retry_max_ms"}));
    auto& a = c.alerts;
    RETURN_IF_ERROR(ReadStrings(*s, "alerts", "webhooks", a.webhooks));
    RETURN_IF_ERROR(Read(*s, "alerts", "webhook_timeout_ms", a.webhook_timeout_ms));
    RETURN_IF_ERROR(Read(*s, "alerts", "retry_initial_ms", a.retry_initial_ms));
    RETURN_IF_ERROR(Read(*s, "alerts", "retry_max_ms", a.retry_max_ms));
    for (const auto& url : a.webhooks) {
      if (url.rfind("http://", 0) != 0) {
        return InvalidArgument("'alerts.webhooks' entry '" + url + "' must be an http:// URL");
      }
    }
    if (a.webhook_timeout_ms <= 0 || a.retry_initial_ms <= 0 ||
        a.retry_max_ms < a.retry_initial_ms) {
      return InvalidArgument(
          "'alerts' timeouts must be > 0 and 'alerts.retry_max_ms' >= 'alerts.retry_initial_ms'");
    }
  }
  if (const auto* s = Section(root, "tracing")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "tracing",
        {"otlp_endpoint", "sample_ratio", "slow_request_ms", "export_interval_ms", "max_queue"}));
    auto& t = c.tracing;
    RETURN_IF_ERROR(Read(*s, "tracing", "otlp_endpoint", t.otlp_endpoint));
    RETURN_IF_ERROR(Read(*s, "tracing", "sample_ratio", t.sample_ratio));
    RETURN_IF_ERROR(Read(*s, "tracing", "slow_request_ms", t.slow_request_ms));
    RETURN_IF_ERROR(Read(*s, "tracing", "export_interval_ms", t.export_interval_ms));
    RETURN_IF_ERROR(Read(*s, "tracing", "max_queue", t.max_queue));
    if (!t.otlp_endpoint.empty() && t.otlp_endpoint.rfind("http://", 0) != 0) {
      return InvalidArgument("'tracing.otlp_endpoint' must be an http:// URL");
    }
    if (!(t.sample_ratio >= 0 && t.sample_ratio <= 1)) {
      return InvalidArgument("'tracing.sample_ratio' must be in [0, 1]");
    }
    if (t.export_interval_ms <= 0 || t.max_queue == 0) {
      return InvalidArgument("'tracing.export_interval_ms' and 'tracing.max_queue' must be > 0");
    }
  }
  if (const auto* s = Section(root, "auth")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "auth",
        {"enabled", "public_metrics", "jwt_hs256_secret_file", "jwt_rs256_public_key_file",
         "jwt_es256_public_key_file", "issuer", "audience", "leeway_s"}));
    auto& a = c.auth;
    RETURN_IF_ERROR(Read(*s, "auth", "enabled", a.enabled));
    a.enabled_set = s->contains("enabled");
    RETURN_IF_ERROR(Read(*s, "auth", "public_metrics", a.public_metrics));
    RETURN_IF_ERROR(Read(*s, "auth", "jwt_hs256_secret_file", a.jwt_hs256_secret_file));
    RETURN_IF_ERROR(Read(*s, "auth", "jwt_rs256_public_key_file", a.jwt_rs256_public_key_file));
    RETURN_IF_ERROR(Read(*s, "auth", "jwt_es256_public_key_file", a.jwt_es256_public_key_file));
    RETURN_IF_ERROR(Read(*s, "auth", "issuer", a.issuer));
    RETURN_IF_ERROR(Read(*s, "auth", "audience", a.audience));
    RETURN_IF_ERROR(Read(*s, "auth", "leeway_s", a.leeway_s));
    if (a.leeway_s > 3600) return InvalidArgument("'auth.leeway_s' must be at most 3600");
  }
  if (const auto* s = Section(root, "rate_limit")) {
    RETURN_IF_ERROR(CheckKeys(
        *s, "rate_limit",
        {"per_ip_rate", "per_ip_burst", "max_keys", "exempt_routes", "per_principal_rate",
         "per_principal_burst", "principals", "scopes", "failed_auth_rate", "failed_auth_burst"}));
    auto& r = c.rate_limit;
    RETURN_IF_ERROR(Read(*s, "rate_limit", "per_principal_rate", r.per_principal_rate));
    RETURN_IF_ERROR(Read(*s, "rate_limit", "per_principal_burst", r.per_principal_burst));
    RETURN_IF_ERROR(Read(*s, "rate_limit", "failed_auth_rate", r.failed_auth_rate));
    RETURN_IF_ERROR(Read(*s, "rate_limit", "failed_auth_burst", r.failed_auth_burst));
    for (const char* kind : {"principals", "scopes"}) {
      auto& rules = std::string_view(kind) == "principals" ? r.principals : r.scopes;
      const toml::node* node = s->get(kind);
      if (node == nullptr) continue;
      const std::string where = std::string("rate_limit.") + kind;
      const toml::table* table = node->as_table();
      if (table == nullptr)
        return InvalidArgument("'" + where + "' must be a table NAME = { rate, burst }");
      for (const auto& [name, value] : *table) {
        const std::string key = where + "." + std::string(name.str());
        const toml::table* rule = value.as_table();
        if (rule == nullptr)
          return InvalidArgument("'" + key + "' must be { rate = N, burst = N }");
        RETURN_IF_ERROR(CheckKeys(*rule, key, {"rate", "burst"}));
        RateLimitRule out;
        out.name = std::string(name.str());
        RETURN_IF_ERROR(Read(*rule, key, "rate", out.rate));
        RETURN_IF_ERROR(Read(*rule, key, "burst", out.burst));
        if (out.rate <= 0) return InvalidArgument("'" + key + ".rate' must be > 0");
        if (out.burst < 0 || (out.burst > 0 && out.burst < 1)) {
          return InvalidArgument("'" + key + ".burst' must be >= 1 (or 0: the rate)");
        }
        rules.push_back(std::move(out));
      }
    }
    if (r.per_principal_rate < 0 || r.per_principal_burst < 0 || r.failed_auth_rate < 0 ||
        r.failed_auth_burst < 0) {
      return InvalidArgument("'rate_limit' rates and bursts must be >= 0");
    }
    RETURN_IF_ERROR(Read(*s, "rate_limit", "per_ip_rate", r.per_ip_rate));
    RETURN_IF_ERROR(Read(*s, "rate_limit", "per_ip_burst", r.per_ip_burst));
    RETURN_IF_ERROR(Read(*s, "rate_limit", "max_keys", r.max_keys));
    RETURN_IF_ERROR(ReadStrings(*s, "rate_limit", "exempt_routes", r.exempt_routes));
    if (r.per_ip_rate < 0 || r.per_ip_burst < 0) {
      return InvalidArgument("'rate_limit.per_ip_rate' and 'rate_limit.per_ip_burst' must be >= 0");
    }
    if (r.per_ip_burst > 0 && r.per_ip_burst < 1) {
      return InvalidArgument("'rate_limit.per_ip_burst' must be >= 1 (or 0: the rate)");
    }
    if (r.max_keys < 64) return InvalidArgument("'rate_limit.max_keys' must be >= 64");
  }
  if (const auto* s = Section(root, "gateway")) {
    RETURN_IF_ERROR(
        CheckKeys(*s, "gateway",
                  {"upstreams", "try_timeout_ms", "timeout_ms", "retry_budget_ratio",
                   "retry_budget_min", "max_idle_per_upstream", "pipeline_depth",
                   "max_response_bytes", "health_interval_ms", "health_timeout_ms",
                   "healthy_threshold", "unhealthy_threshold", "breaker_consecutive_failures",
                   "breaker_failure_rate", "breaker_min_requests", "breaker_window_ms",
                   "breaker_open_ms", "breaker_max_open_ms", "breaker_close_successes"}));
    auto& g = c.gateway;
    RETURN_IF_ERROR(ReadStrings(*s, "gateway", "upstreams", g.upstreams));
    RETURN_IF_ERROR(Read(*s, "gateway", "try_timeout_ms", g.try_timeout_ms));
    RETURN_IF_ERROR(Read(*s, "gateway", "timeout_ms", g.timeout_ms));
    RETURN_IF_ERROR(Read(*s, "gateway", "retry_budget_ratio", g.retry_budget_ratio));
    RETURN_IF_ERROR(Read(*s, "gateway", "retry_budget_min", g.retry_budget_min));
    RETURN_IF_ERROR(Read(*s, "gateway", "max_idle_per_upstream", g.max_idle_per_upstream));
    RETURN_IF_ERROR(Read(*s, "gateway", "pipeline_depth", g.pipeline_depth));
    if (g.pipeline_depth < 1 || g.pipeline_depth > 64) {
      return InvalidArgument("'gateway.pipeline_depth' must be between 1 and 64");
    }
    RETURN_IF_ERROR(Read(*s, "gateway", "max_response_bytes", g.max_response_bytes));
    RETURN_IF_ERROR(Read(*s, "gateway", "health_interval_ms", g.health_interval_ms));
    RETURN_IF_ERROR(Read(*s, "gateway", "health_timeout_ms", g.health_timeout_ms));
    RETURN_IF_ERROR(Read(*s, "gateway", "healthy_threshold", g.healthy_threshold));
    RETURN_IF_ERROR(Read(*s, "gateway", "unhealthy_threshold", g.unhealthy_threshold));
    RETURN_IF_ERROR(
        Read(*s, "gateway", "breaker_consecutive_failures", g.breaker_consecutive_failures));
    RETURN_IF_ERROR(Read(*s, "gateway", "breaker_failure_rate", g.breaker_failure_rate));
    RETURN_IF_ERROR(Read(*s, "gateway", "breaker_min_requests", g.breaker_min_requests));
    RETURN_IF_ERROR(Read(*s, "gateway", "breaker_window_ms", g.breaker_window_ms));
    RETURN_IF_ERROR(Read(*s, "gateway", "breaker_open_ms", g.breaker_open_ms));
    RETURN_IF_ERROR(Read(*s, "gateway", "breaker_max_open_ms", g.breaker_max_open_ms));
    RETURN_IF_ERROR(Read(*s, "gateway", "breaker_close_successes", g.breaker_close_successes));
  }
  RETURN_IF_ERROR(ValidateGatewayConfig(c.gateway));
  if (const auto* s = Section(root, "audit")) {
    RETURN_IF_ERROR(CheckKeys(*s, "audit",
                              {"enabled", "path", "max_bytes", "max_files", "fsync",
                               "fsync_interval_ms", "include_input", "queue_capacity"}));
    auto& a = c.audit;
    RETURN_IF_ERROR(Read(*s, "audit", "enabled", a.enabled));
    RETURN_IF_ERROR(Read(*s, "audit", "path", a.path));
    RETURN_IF_ERROR(Read(*s, "audit", "max_bytes", a.max_bytes));
    RETURN_IF_ERROR(Read(*s, "audit", "max_files", a.max_files));
    RETURN_IF_ERROR(Read(*s, "audit", "fsync", a.fsync));
    RETURN_IF_ERROR(Read(*s, "audit", "fsync_interval_ms", a.fsync_interval_ms));
    RETURN_IF_ERROR(Read(*s, "audit", "include_input", a.include_input));
    RETURN_IF_ERROR(Read(*s, "audit", "queue_capacity", a.queue_capacity));
    if (a.fsync != "always" && a.fsync != "interval" && a.fsync != "never") {
      return InvalidArgument("'audit.fsync' must be \"always\", \"interval\" or \"never\"");
    }
    if (a.max_bytes < 4096) return InvalidArgument("'audit.max_bytes' must be >= 4096");
    if (a.max_files < 1) return InvalidArgument("'audit.max_files' must be >= 1");
    if (a.fsync_interval_ms <= 0) return InvalidArgument("'audit.fsync_interval_ms' must be > 0");
    if (a.queue_capacity < 2) return InvalidArgument("'audit.queue_capacity' must be >= 2");
  }
  if (const auto* s = Section(root, "logging")) {
    RETURN_IF_ERROR(CheckKeys(*s, "logging", {"level", "format"}));
    RETURN_IF_ERROR(Read(*s, "logging", "level", c.logging.level));
    std::string format;
    RETURN_IF_ERROR(Read(*s, "logging", "format", format));
    if (format == "json") {
      c.logging.format = LogFormat::kJson;
    } else if (!format.empty() && format != "logfmt") {
      return InvalidArgument("'logging.format' must be \"logfmt\" or \"json\"");
    }
  }
  if (c.server.body_limit_bytes == 0)
    return InvalidArgument("'server.body_limit_bytes' must be > 0");
  if (c.server.upload_limit_bytes == 0)
    return InvalidArgument("'server.upload_limit_bytes' must be > 0");
  return c;
}

Status ValidateGatewayConfig(const GatewayConfig& g) {
  auto positive = [](std::string_view key, double v) {
    return v > 0 ? OkStatus() : InvalidArgument("'gateway." + std::string(key) + "' must be > 0");
  };
  RETURN_IF_ERROR(positive("try_timeout_ms", g.try_timeout_ms));
  RETURN_IF_ERROR(positive("timeout_ms", g.timeout_ms));
  RETURN_IF_ERROR(positive("health_interval_ms", g.health_interval_ms));
  RETURN_IF_ERROR(positive("health_timeout_ms", g.health_timeout_ms));
  RETURN_IF_ERROR(positive("healthy_threshold", g.healthy_threshold));
  RETURN_IF_ERROR(positive("unhealthy_threshold", g.unhealthy_threshold));
  RETURN_IF_ERROR(positive("breaker_consecutive_failures", g.breaker_consecutive_failures));
  RETURN_IF_ERROR(positive("breaker_min_requests", static_cast<double>(g.breaker_min_requests)));
  RETURN_IF_ERROR(positive("breaker_window_ms", g.breaker_window_ms));
  RETURN_IF_ERROR(positive("breaker_open_ms", g.breaker_open_ms));
  RETURN_IF_ERROR(positive("breaker_close_successes", g.breaker_close_successes));
  RETURN_IF_ERROR(positive("max_response_bytes", static_cast<double>(g.max_response_bytes)));
  if (g.breaker_max_open_ms < g.breaker_open_ms) {
    return InvalidArgument("'gateway.breaker_max_open_ms' must be >= 'gateway.breaker_open_ms'");
  }
  if (!(g.breaker_failure_rate > 0 && g.breaker_failure_rate <= 1)) {
    return InvalidArgument("'gateway.breaker_failure_rate' must be in (0, 1]");
  }
  if (g.retry_budget_ratio < 0 || g.retry_budget_min < 0) {
    return InvalidArgument(
        "'gateway.retry_budget_ratio' and 'gateway.retry_budget_min' must be >= 0");
  }
  return OkStatus();
}

StatusOr<Config> LoadConfigFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("config file '" + path + "' cannot be read");
  std::stringstream ss;
  ss << in.rdbuf();
  return ParseConfig(ss.str(), path);
}

}  // namespace closedloop
