#include "tracking/artifact_api.h"

#include <filesystem>

#include "core/json_writer.h"
#include "http/query.h"
#include "tracking/mlflow_request.h"

namespace closedloop {

namespace {

using namespace mlflow_rest;
namespace fs = std::filesystem;

constexpr std::string_view kFiles = "/api/2.0/mlflow-artifacts/artifacts";

// The percent-decoded {path} of a /api/2.0/mlflow-artifacts/artifacts/{path} target.
std::string PathOf(const RequestContext& c) {
  std::string_view target = c.request.target();
  target = target.substr(0, target.find('?'));
  target.remove_prefix(std::min(target.size(), kFiles.size() + 1));
  return UrlDecode(target);
}

std::string_view ContentTypeOf(std::string_view path) {
  const std::string ext = fs::path(std::string(path)).extension().string();
  if (ext == ".json") return "application/json";
  if (ext == ".txt" || ext == ".log" || ext == ".md" || ext == ".toml" || ext == ".yaml" ||
      ext == ".yml" || ext == ".csv" || ext == ".tsv" || path.ends_with("MLmodel")) {
    return "text/plain; charset=utf-8";
  }
  if (ext == ".png") return "image/png";
  if (ext == ".html") return "text/plain; charset=utf-8";  // never rendered as a page
  return "application/octet-stream";
}

void WriteEntries(JsonWriter& w, const std::vector<ArtifactEntry>& entries,
                  const std::string& prefix) {
  w.Key("files").BeginArray();
  for (const ArtifactEntry& e : entries) {
    w.BeginObject().Key("path").String(prefix + e.name).Key("is_dir").Bool(e.is_dir);
    if (!e.is_dir) w.Key("file_size").Int(e.file_size);
    w.EndObject();
  }
  w.EndArray();
}

}  // namespace

StatusOr<std::string> ArtifactPathOfUri(std::string_view uri, const std::string& root) {
  if (auto path = ArtifactSchemePath(uri)) return std::string(*path);
  if (uri.starts_with("file://")) uri.remove_prefix(7);
  std::error_code ec;
  const fs::path base = fs::weakly_canonical(root, ec);
  const fs::path full = fs::weakly_canonical(std::string(uri), ec);
  auto [b, f] = std::mismatch(base.begin(), base.end(), full.begin(), full.end());
  if (!ec && b == base.end()) return fs::path(full).lexically_relative(base).generic_string();
  return InvalidArgument("artifact URI '" + std::string(uri) +
                         "' is not in this server's artifact store");
}

void ArtifactApi::Register(Router& router) {
  const std::string files = std::string(kFiles) + "/*";
  router.Add(
      http::verb::put, files,
      [this](RequestContext& c) {
        Status s = artifacts_.Put(PathOf(c), c.request.body());
        if (!s.ok()) return MlflowError(c, s);
        c.Json(200, "{}");
      },
      BodyMedia::kAny, upload_limit_bytes_);
  router.Add(http::verb::get, files, [this](RequestContext& c) {
    const std::string path = PathOf(c);
    auto bytes = artifacts_.Read(path);
    if (!bytes.ok()) return MlflowError(c, bytes.status());
    c.status = 200;
    c.content_type = std::string(ContentTypeOf(path));
    c.body = std::move(bytes).value();
  });
  router.Add(http::verb::delete_, files, [this](RequestContext& c) {
    Status s = artifacts_.Delete(PathOf(c));
    if (!s.ok()) return MlflowError(c, s);
    c.Json(200, "{}");
  });
  router.Add(http::verb::get, std::string(kFiles), [this](RequestContext& c) {
    const std::string dir = QueryParam(c.request.target(), "path").value_or("");
    auto entries = artifacts_.List(dir);
    if (!entries.ok()) return MlflowError(c, entries.status());
    JsonWriter w;
    w.BeginObject();
    WriteEntries(w, *entries, "");
    w.EndObject();
    c.Json(200, std::move(w).Take());
  });
  router.Add(http::verb::get, std::string(kPrefix) + "artifacts/list",
             Endpoint([this](RequestContext& c, const Params& p) -> Status {
               ASSIGN_OR_RETURN(std::string id, p.RunId());
               ASSIGN_OR_RETURN(auto sub, p.String("path"));
               ASSIGN_OR_RETURN(Run run, runs_.GetRun(id));
               ASSIGN_OR_RETURN(std::string base,
                                ArtifactPathOfUri(run.info.artifact_uri, artifacts_.root()));
               std::string dir = sub.value_or("");
               while (!dir.empty() && dir.back() == '/') dir.pop_back();
               if (!dir.empty() && (dir.front() == '/' || dir.find("..") != std::string::npos)) {
                 return InvalidArgument("'path' '" + dir + "' must be relative, without '..'");
               }
               ASSIGN_OR_RETURN(auto entries,
                                artifacts_.List(dir.empty() ? base : base + "/" + dir));
               JsonWriter w;
               w.BeginObject().Key("root_uri").String(run.info.artifact_uri);
               WriteEntries(w, entries, dir.empty() ? "" : dir + "/");
               w.EndObject();
               c.Json(200, std::move(w).Take());
               return OkStatus();
             }));
}

}  // namespace closedloop
