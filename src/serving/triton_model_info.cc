#include "serving/triton_model_info.h"

#include <filesystem>

#include "core/json_writer.h"

namespace closedloop {
namespace {

// Whether every input and output has a variable first (batch) dimension.
bool Batches(const ModelVersion& mv) {
  auto batched = [](const std::vector<TensorSpec>& specs) {
    for (const TensorSpec& s : specs) {
      if (s.shape.empty() || s.shape[0] != -1) return false;
    }
    return !specs.empty();
  };
  return mv.config.batching.max_batch_size > 1 && batched(mv.backend->InputSpecs()) &&
         batched(mv.backend->OutputSpecs());
}

void WriteTensors(JsonWriter& w, const std::vector<TensorSpec>& specs, bool drop_batch,
                  bool outputs) {
  w.BeginArray();
  for (const TensorSpec& s : specs) {
    w.BeginObject().Key("name").String(s.name).Key("data_type").String(TritonTypeName(s.datatype));
    if (!outputs) w.Key("format").String("FORMAT_NONE");
    w.Key("dims").BeginArray();
    for (size_t i = drop_batch ? 1 : 0; i < s.shape.size(); ++i) w.Int(s.shape[i]);
    w.EndArray();
    if (outputs) w.Key("label_filename").String("");
    w.Key("is_shape_tensor").Bool(false);
    if (!outputs) w.Key("allow_ragged_batch").Bool(false).Key("optional").Bool(false);
    w.EndObject();
  }
  w.EndArray();
}

void WriteDuration(JsonWriter& w, std::string_view key, const DurationStat& d) {
  w.Key(key).BeginObject().Key("count").Uint(d.count).Key("ns").Uint(d.ns).EndObject();
}

}  // namespace

std::string_view TritonTypeName(DataType t) {
  switch (t) {
    case DataType::kBool:
      return "TYPE_BOOL";
    case DataType::kUint8:
      return "TYPE_UINT8";
    case DataType::kUint16:
      return "TYPE_UINT16";
    case DataType::kUint32:
      return "TYPE_UINT32";
    case DataType::kUint64:
      return "TYPE_UINT64";
    case DataType::kInt8:
      return "TYPE_INT8";
    case DataType::kInt16:
      return "TYPE_INT16";
    case DataType::kInt32:
      return "TYPE_INT32";
    case DataType::kInt64:
      return "TYPE_INT64";
    case DataType::kFp16:
      return "TYPE_FP16";
    case DataType::kBf16:
      return "TYPE_BF16";
    case DataType::kFp32:
      return "TYPE_FP32";
    case DataType::kFp64:
      return "TYPE_FP64";
    case DataType::kBytes:
      return "TYPE_STRING";
  }
  return "TYPE_INVALID";
}

std::string ModelConfigJson(const ModelVersion& mv, const VersionPolicy& policy) {
  const bool batches = Batches(mv);
  const std::string flavor(mv.backend->flavor());
  JsonWriter w(2048);
  w.BeginObject()
      .Key("name")
      .String(mv.name)
      .Key("platform")
      .String(flavor)
      .Key("backend")
      .String(flavor)
      .Key("version_policy")
      .BeginObject();
  switch (policy.kind) {
    case VersionPolicy::kAll:
      w.Key("all").BeginObject().EndObject();
      break;
    case VersionPolicy::kLatest:
      w.Key("latest").BeginObject().Key("num_versions").Int(policy.latest).EndObject();
      break;
    case VersionPolicy::kSpecific:
      w.Key("specific").BeginObject().Key("versions").BeginArray();
      for (int64_t v : policy.specific) w.Int(v);
      w.EndArray().EndObject();
      break;
  }
  w.EndObject().Key("max_batch_size").Int(batches ? mv.config.batching.max_batch_size : 0);
  w.Key("input");
  WriteTensors(w, mv.backend->InputSpecs(), batches, false);
  w.Key("output");
  WriteTensors(w, mv.backend->OutputSpecs(), batches, true);
  if (batches) {
    const BatchingConfig& b = mv.config.batching;
    w.Key("dynamic_batching")
        .BeginObject()
        .Key("preferred_batch_size")
        .BeginArray()
        .EndArray()
        .Key("max_queue_delay_microseconds")
        .Int(b.max_queue_delay_us)
        .Key("preserve_ordering")
        .Bool(true)  // each request gets its own slice, answered in arrival order
        .Key("default_queue_policy")
        .BeginObject()
        .Key("timeout_action")
        .String("REJECT")
        .Key("default_timeout_microseconds")
        .Int(0)
        .Key("allow_timeout_override")
        .Bool(false)
        .Key("max_queue_size")
        .Int(b.max_queue_size)
        .EndObject()
        .EndObject();
  }
  w.Key("default_model_filename")
      .String(std::filesystem::path(mv.path).filename().string())
      .Key("parameters")
      .BeginObject()
      .EndObject()
      .EndObject();
  return std::move(w).Take();
}

std::string ModelStatsJson(const std::vector<std::shared_ptr<const ModelVersion>>& versions) {
  JsonWriter w(1024);
  w.BeginObject().Key("model_stats").BeginArray();
  for (const auto& mv : versions) {
    const InferenceStatsView s = mv->stats->Read();
    w.BeginObject()
        .Key("name")
        .String(mv->name)
        .Key("version")
        .String(mv->version_label)
        .Key("last_inference")
        .Int(s.last_inference_ms)
        .Key("inference_count")
        .Uint(s.inference_count)
        .Key("execution_count")
        .Uint(s.execution_count)
        .Key("inference_stats")
        .BeginObject();
    WriteDuration(w, "success", s.success);
    WriteDuration(w, "fail", s.fail);
    WriteDuration(w, "queue", s.queue);
    WriteDuration(w, "compute_input", s.compute_input);
    WriteDuration(w, "compute_infer", s.compute_infer);
    WriteDuration(w, "compute_output", s.compute_output);
    WriteDuration(w, "cache_hit", {});  // closedloop has no response cache
    WriteDuration(w, "cache_miss", {});
    w.EndObject().Key("batch_stats").BeginArray();
    for (const BatchStat& b : s.batch_stats) {
      w.BeginObject().Key("batch_size").Uint(b.batch_size);
      WriteDuration(w, "compute_input", b.compute_input);
      WriteDuration(w, "compute_infer", b.compute_infer);
      WriteDuration(w, "compute_output", b.compute_output);
      w.EndObject();
    }
    w.EndArray().Key("memory_usage").BeginArray().EndArray().EndObject();
  }
  w.EndArray().EndObject();
  return std::move(w).Take();
}

}  // namespace closedloop
