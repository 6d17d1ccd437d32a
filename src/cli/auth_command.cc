// `closedloop token create` (an HS256 JWT signed with the data dir's secret,
// created 0600 on first use) and `closedloop keys create|list|revoke` (API keys in
// <data_dir>/auth.db; the full key is printed once, at creation).
#include <sys/stat.h>

#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>

#include <openssl/rand.h>

#include "auth/api_key_store.h"
#include "auth/jwt_verifier.h"
#include "cli/commands.h"
#include "core/clock.h"

namespace closedloop {

namespace {

std::vector<std::string> SplitComma(const std::string& s) {
  std::vector<std::string> out;
  std::stringstream ss(s);
  for (std::string x; std::getline(ss, x, ',');) {
    if (!x.empty()) out.push_back(x);
  }
  return out;
}

// "90s", "15m", "1h", "7d" -> seconds; nullopt when malformed.
std::optional<int64_t> ParseTtl(const std::string& s) {
  if (s.size() < 2) return std::nullopt;
  int64_t unit = 0;
  switch (s.back()) {
    case 's':
      unit = 1;
      break;
    case 'm':
      unit = 60;
      break;
    case 'h':
      unit = 3600;
      break;
    case 'd':
      unit = 86400;
      break;
    default:
      return std::nullopt;
  }
  std::string digits = s.substr(0, s.size() - 1);
  if (digits.empty() || digits.find_first_not_of("0123456789") != std::string::npos ||
      digits.size() > 6) {
    return std::nullopt;
  }
  int64_t n = std::stoll(digits);
  return n > 0 ? std::optional<int64_t>(n * unit) : std::nullopt;
}

// The data dir's HS256 secret: read, or made (48 random bytes, hex) readable by the owner only.
StatusOr<std::string> DataDirSecret(const std::string& data_dir) {
  const std::string path = DefaultJwtSecretPath(data_dir);
  std::ifstream in(path);
  if (in) {
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }
  std::error_code ec;
  std::filesystem::create_directories(std::filesystem::path(path).parent_path(), ec);
  if (ec) return Unavailable("cannot create " + path + ": " + ec.message());
  unsigned char raw[48];
  if (RAND_bytes(raw, sizeof raw) != 1) return Internal("the OS random source failed");
  std::string secret;
  static constexpr char kHex[] = "0123456789abcdef";
  for (unsigned char b : raw) secret += {kHex[b >> 4], kHex[b & 15]};
  mode_t old = umask(077);
  std::ofstream out(path);
  out << secret;
  out.close();
  umask(old);
  if (!out) return Unavailable("cannot write " + path);
  return secret;
}

}  // namespace

void AddAuthCommands(CLI::App& app, int& exit_code) {
  CLI::App* token = app.add_subcommand("token", "JWTs for the server's [auth]");
  token->require_subcommand(1);
  struct TokenFlags {
    std::string data_dir = "./closedloop-data", subject, scope = "predict", ttl = "1h";
    std::string issuer = "closedloop", audience = "closedloop";
  };
  auto tf = std::make_shared<TokenFlags>();
  CLI::App* create = token->add_subcommand(
      "create", "Print an HS256 JWT signed with <data-dir>/auth/jwt-hs256.key (made on first use)");
  create->add_option("--data-dir", tf->data_dir)->capture_default_str();
  create->add_option("--subject", tf->subject, "The principal (sub)")->required();
  create->add_option("--scope", tf->scope, "Comma-separated: predict,feedback,label,metrics,admin")
      ->capture_default_str();
  create->add_option("--ttl", tf->ttl, "Lifetime: 90s, 15m, 1h, 7d")->capture_default_str();
  create->add_option("--issuer", tf->issuer)->capture_default_str();
  create->add_option("--audience", tf->audience)->capture_default_str();
  create->callback([tf, &exit_code] {
    auto ttl = ParseTtl(tf->ttl);
    if (!ttl) {
      std::cerr << "closedloop token create: --ttl '" << tf->ttl
                << "' must be a number with s, m, h or d\n";
      exit_code = 2;
      return;
    }
    auto scopes = SplitComma(tf->scope);
    for (const auto& s : scopes) {
      if (std::find(KnownScopes().begin(), KnownScopes().end(), s) == KnownScopes().end()) {
        std::cerr << "closedloop token create: --scope: unknown scope '" << s
                  << "' (predict, feedback, label, metrics, admin)\n";
        exit_code = 2;
        return;
      }
    }
    auto secret = DataDirSecret(tf->data_dir);
    auto jwt = secret.ok() ? SignHs256(*secret, tf->subject, scopes, *ttl, tf->issuer, tf->audience,
                                       SystemClock::Get())
                           : StatusOr<std::string>(secret.status());
    if (!jwt.ok()) {
      std::cerr << "closedloop token create: " << jwt.status().message() << "\n";
      exit_code = 1;
      return;
    }
    std::cout << *jwt << "\n";
    exit_code = 0;
  });

  CLI::App* keys = app.add_subcommand("keys", "API keys in <data-dir>/auth.db");
  keys->require_subcommand(1);
  auto data_dir = std::make_shared<std::string>("./closedloop-data");
  auto with_store = [data_dir, &exit_code](const std::function<Status(ApiKeyStore&)>& run) {
    return [data_dir, &exit_code, run] {
      std::error_code ec;
      std::filesystem::create_directories(*data_dir, ec);
      auto store = ApiKeyStore::Open(*data_dir + "/auth.db", SystemClock::Get());
      Status s = store.ok() ? run(**store) : store.status();
      if (!s.ok()) std::cerr << "closedloop keys: " << s.message() << "\n";
      exit_code = s.ok() ? 0 : (s.code() == StatusCode::kInvalidArgument ? 2 : 1);
    };
  };
  auto name = std::make_shared<std::string>();
  auto scope = std::make_shared<std::string>("predict");
  CLI::App* kc = keys->add_subcommand("create", "Make a key; it is printed once");
  kc->add_option("--data-dir", *data_dir)->capture_default_str();
  kc->add_option("--name", *name, "Who uses it (the principal)")->required();
  kc->add_option("--scope", *scope, "Comma-separated scopes")->capture_default_str();
  kc->callback(with_store([name, scope](ApiKeyStore& store) -> Status {
    ApiKeyInfo info;
    ASSIGN_OR_RETURN(std::string key, store.Create(*name, SplitComma(*scope), &info));
    std::cout << key << "\n";
    std::cerr << "API key " << info.id << " for '" << info.name
              << "' created; it is shown only now, store it safely\n";
    return OkStatus();
  }));
  CLI::App* kl = keys->add_subcommand("list", "Keys (never their secrets)");
  kl->add_option("--data-dir", *data_dir)->capture_default_str();
  kl->callback(with_store([](ApiKeyStore& store) -> Status {
    ASSIGN_OR_RETURN(auto all, store.List());
    std::cout << "ID                          PREFIX        NAME              SCOPES               "
                 "CREATED               STATE\n";
    for (const auto& k : all) {
      std::string scopes;
      for (const auto& s : k.scopes) scopes += (scopes.empty() ? "" : ",") + s;
      const std::string state =
          k.revoked_ms ? "revoked " + FormatUtc(k.revoked_ms) : std::string("active");
      const std::string created = FormatUtc(k.created_ms);
      char line[512];
      std::snprintf(line, sizeof line, "%-27s %-13s %-17s %-20s %-21s %s\n", k.id.c_str(),
                    k.prefix.c_str(), k.name.c_str(), scopes.c_str(), created.c_str(),
                    state.c_str());
      std::cout << line;
    }
    return OkStatus();
  }));
  auto which = std::make_shared<std::string>();
  CLI::App* kr = keys->add_subcommand("revoke", "Revoke a key by id or prefix");
  kr->add_option("--data-dir", *data_dir)->capture_default_str();
  kr->add_option("key", *which, "The key's id or prefix")->required();
  kr->callback(with_store([which](ApiKeyStore& store) -> Status {
    RETURN_IF_ERROR(store.Revoke(*which));
    std::cout << "revoked " << *which << "\n";
    return OkStatus();
  }));
}

}  // namespace closedloop
