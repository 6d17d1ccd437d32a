#include "serving/image_input.h"

#include <cmath>
#include <cstring>

#include <simdjson.h>

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include "core/base64.h"
#include "core/json_writer.h"
#include "core/sha256.h"

namespace closedloop {
namespace {

// A thumbnail PNG larger than this is left out of the log.
constexpr size_t kMaxThumbnailBytes = 32 * 1024;

std::string DimsText(const std::vector<int64_t>& dims) {
  std::string s;
  for (int64_t d : dims) s += "[" + std::to_string(d) + "]";
  return s;
}

uint32_t BigEndian(const unsigned char* p, int n) {
  uint32_t v = 0;
  for (int i = 0; i < n; ++i) v = (v << 8) | p[i];
  return v;
}

// 8-bit thumbnail of an HWC image whose pixels are in [0, 255] (grey or RGB/BGR
// per `order`), at most `side` pixels on its longer side.
std::string Thumbnail(const cv::Mat& image8, int side, bool rgb) {
  if (side <= 0 || image8.empty()) return "";
  const int longer = std::max(image8.cols, image8.rows);
  const double f = static_cast<double>(side) / longer;
  cv::Size size(std::max(1, static_cast<int>(std::lround(image8.cols * f))),
                std::max(1, static_cast<int>(std::lround(image8.rows * f))));
  cv::Mat small;
  cv::resize(image8, small, size, 0, 0, f < 1 ? cv::INTER_AREA : cv::INTER_NEAREST);
  if (small.channels() == 3 && rgb) cv::cvtColor(small, small, cv::COLOR_RGB2BGR);
  std::vector<uchar> png;
  if (!cv::imencode(".png", small, png) || png.size() > kMaxThumbnailBytes) return "";
  return std::string(png.begin(), png.end());
}

// Scales, records the statistics of, normalizes and lays out an HWC float image
// that has the model's size and channels.
void Finish(const cv::Mat& hwc, const ImageConfig& c, PreparedImage& out) {
  const int h = c.height, w = c.width, ch = c.channels;
  const size_t n = static_cast<size_t>(h) * w * ch;
  out.values.assign(n, 0.f);
  double sum = 0, sum2 = 0;
  const float* src = hwc.ptr<float>();
  const bool chw = c.layout == "nchw";
  for (int y = 0; y < h; ++y) {
    for (int x = 0; x < w; ++x) {
      for (int k = 0; k < ch; ++k) {
        const size_t i = (static_cast<size_t>(y) * w + x) * ch + k;
        const double v = src[i] * c.scale;
        sum += v;
        sum2 += v * v;
        const double mean = c.mean.empty() ? 0 : c.mean[k];
        const double sd = c.std.empty() ? 1 : c.std[k];
        const size_t o = chw ? (static_cast<size_t>(k) * h + y) * w + x : i;
        out.values[o] = static_cast<float>((v - mean) / sd);
      }
    }
  }
  out.stats.brightness = sum / static_cast<double>(n);
  const double var = sum2 / static_cast<double>(n) - out.stats.brightness * out.stats.brightness;
  out.stats.contrast = std::sqrt(std::max(0.0, var));
}

}  // namespace

std::vector<int64_t> ImageTensorShape(const ImageConfig& c, int64_t batch) {
  if (c.layout == "nhwc") return {batch, c.height, c.width, c.channels};
  return {batch, c.channels, c.height, c.width};
}

std::string ExpectedImageShape(const ImageConfig& c) {
  if (c.json_layout == "chw") {
    return DimsText({c.channels, c.height, c.width}) + " ([C][H][W])";
  }
  return DimsText({c.height, c.width, c.channels}) + " ([H][W][C])";
}

StatusOr<ImageSize> EncodedImageSize(std::string_view bytes) {
  const auto* p = reinterpret_cast<const unsigned char*>(bytes.data());
  const size_t n = bytes.size();
  static constexpr unsigned char kPng[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
  if (n >= 8 && std::memcmp(p, kPng, 8) == 0) {
    // The first chunk must be IHDR: length(4) "IHDR" width(4) height(4).
    if (n < 24 || std::memcmp(p + 12, "IHDR", 4) != 0) {
      return InvalidArgument("the PNG has no IHDR header (corrupt or truncated)");
    }
    ImageSize s{BigEndian(p + 16, 4), BigEndian(p + 20, 4), "png"};
    if (s.width == 0 || s.height == 0) return InvalidArgument("the PNG has a zero size");
    return s;
  }
  if (n >= 3 && p[0] == 0xFF && p[1] == 0xD8 && p[2] == 0xFF) {
    size_t i = 2;
    while (i + 4 <= n) {
      if (p[i] != 0xFF) return InvalidArgument("the JPEG's markers are corrupt");
      const unsigned char m = p[i + 1];
      if (m == 0xFF) {  // fill byte
        ++i;
        continue;
      }
      if (m == 0x01 || (m >= 0xD0 && m <= 0xD8)) {  // markers without a length
        i += 2;
        continue;
      }
      const size_t len = BigEndian(p + i + 2, 2);
      if (len < 2) return InvalidArgument("the JPEG's markers are corrupt");
      const bool sof = m >= 0xC0 && m <= 0xCF && m != 0xC4 && m != 0xC8 && m != 0xCC;
      if (sof) {
        if (i + 9 > n) break;
        ImageSize s{BigEndian(p + i + 7, 2), BigEndian(p + i + 5, 2), "jpeg"};
        if (s.width == 0 || s.height == 0) return InvalidArgument("the JPEG has a zero size");
        return s;
      }
      if (m == 0xDA) break;  // scan data before any frame header
      i += 2 + len;
    }
    return InvalidArgument("the JPEG has no frame header (corrupt or truncated)");
  }
  return InvalidArgument("the data is neither a PNG nor a JPEG file");
}

StatusOr<PreparedImage> PrepareImageArray(const std::vector<float>& values,
                                          const std::vector<int64_t>& dims, const ImageConfig& c) {
  const bool chw = c.json_layout == "chw";
  std::vector<int64_t> want = chw ? std::vector<int64_t>{c.channels, c.height, c.width}
                                  : std::vector<int64_t>{c.height, c.width, c.channels};
  bool ok = dims == want;
  if (!ok && c.channels == 1 && dims == std::vector<int64_t>{c.height, c.width}) ok = true;
  if (!ok) {
    return InvalidArgument("field 'image' has shape " + DimsText(dims) + "; the model expects " +
                           ExpectedImageShape(c));
  }
  const int h = c.height, w = c.width, ch = c.channels;
  cv::Mat hwc(h, w, CV_32FC(ch));
  float* dst = hwc.ptr<float>();
  if (chw && ch > 1) {
    for (int k = 0; k < ch; ++k) {
      for (int i = 0; i < h * w; ++i) dst[i * ch + k] = values[static_cast<size_t>(k) * h * w + i];
    }
  } else {
    std::copy(values.begin(), values.end(), dst);
  }
  PreparedImage out;
  out.format = "array";
  out.source_width = w;
  out.source_height = h;
  out.sha256 = Sha256Hex(std::string_view(reinterpret_cast<const char*>(values.data()),
                                          values.size() * sizeof(float)));
  Finish(hwc, c, out);
  if (c.thumbnail_px > 0) {
    cv::Mat scaled, image8;
    hwc.convertTo(scaled, CV_32F, c.scale * 255.0);
    scaled.convertTo(image8, CV_8U);  // saturates outside [0, 255]
    out.thumbnail_png = Thumbnail(image8, c.thumbnail_px, c.channel_order == "rgb");
  }
  return out;
}

StatusOr<PreparedImage> PrepareEncodedImage(std::string_view bytes, const ImageConfig& c,
                                            std::string_view field) {
  auto size = EncodedImageSize(bytes);
  if (!size.ok()) {
    return InvalidArgument("field '" + std::string(field) + "': " + size.status().message());
  }
  const int64_t pixels = size->width * size->height;
  if (size->width > 1'000'000 || size->height > 1'000'000 || pixels > c.max_pixels) {
    return PayloadTooLarge("field '" + std::string(field) + "' is a " +
                           std::to_string(size->width) + "x" + std::to_string(size->height) +
                           " image (" + std::to_string(pixels) +
                           " pixels); the model accepts at most " + std::to_string(c.max_pixels));
  }
  cv::Mat decoded;
  try {
    cv::Mat buf(1, static_cast<int>(bytes.size()), CV_8U,
                const_cast<char*>(bytes.data()));  // read only by imdecode
    decoded = cv::imdecode(buf, c.channels == 1 ? cv::IMREAD_GRAYSCALE : cv::IMREAD_COLOR);
  } catch (const cv::Exception& e) {
    return InvalidArgument("field '" + std::string(field) + "': the " + size->format +
                           " cannot be decoded: " + e.err);
  }
  if (decoded.empty()) {
    return InvalidArgument("field '" + std::string(field) + "': the " + size->format +
                           " cannot be decoded (corrupt or truncated)");
  }
  if (decoded.depth() != CV_8U) decoded.convertTo(decoded, CV_8U);
  if (c.channels == 3 && c.channel_order == "rgb") {
    cv::cvtColor(decoded, decoded, cv::COLOR_BGR2RGB);
  }
  PreparedImage out;
  out.format = size->format;
  out.source_width = decoded.cols;
  out.source_height = decoded.rows;
  out.sha256 = Sha256Hex(bytes);
  cv::Mat resized;
  if (decoded.cols == c.width && decoded.rows == c.height) {
    resized = decoded;
  } else {
    const bool shrink = decoded.cols > c.width || decoded.rows > c.height;
    cv::resize(decoded, resized, cv::Size(c.width, c.height), 0, 0,
               shrink ? cv::INTER_AREA : cv::INTER_LINEAR);
  }
  cv::Mat hwc;
  resized.convertTo(hwc, CV_32F);
  if (!hwc.isContinuous()) hwc = hwc.clone();
  Finish(hwc, c, out);
  out.thumbnail_png = Thumbnail(decoded, c.thumbnail_px, c.channel_order == "rgb");
  return out;
}

Status CheckFiniteImageValues(const float* values, size_t count, std::string_view field) {
  for (size_t i = 0; i < count; ++i) {
    if (!std::isfinite(values[i])) {
      return InvalidArgument("input '" + std::string(field) + "' element " + std::to_string(i) +
                             " is not finite (NaN or Inf pixels are refused)");
    }
  }
  return OkStatus();
}

PreparedImage DescribeImageTensorRow(const float* values, const ImageConfig& c) {
  const int h = c.height, w = c.width, ch = c.channels;
  const size_t n = static_cast<size_t>(h) * w * ch;
  PreparedImage out;
  out.format = "tensor";
  out.source_width = w;
  out.source_height = h;
  out.sha256 =
      Sha256Hex(std::string_view(reinterpret_cast<const char*>(values), n * sizeof(float)));
  cv::Mat x(h, w, CV_32FC(ch));  // scaled pixels, HWC
  float* dst = x.ptr<float>();
  const bool chw = c.layout == "nchw";
  double sum = 0, sum2 = 0;
  for (int y = 0; y < h; ++y) {
    for (int xx = 0; xx < w; ++xx) {
      for (int k = 0; k < ch; ++k) {
        const size_t i = (static_cast<size_t>(y) * w + xx) * ch + k;
        const size_t from = chw ? (static_cast<size_t>(k) * h + y) * w + xx : i;
        const double v =
            values[from] * (c.std.empty() ? 1 : c.std[k]) + (c.mean.empty() ? 0 : c.mean[k]);
        dst[i] = static_cast<float>(v);
        sum += v;
        sum2 += v * v;
      }
    }
  }
  out.stats.brightness = sum / static_cast<double>(n);
  out.stats.contrast = std::sqrt(
      std::max(0.0, sum2 / static_cast<double>(n) - out.stats.brightness * out.stats.brightness));
  if (c.thumbnail_px > 0) {
    cv::Mat scaled, image8;
    x.convertTo(scaled, CV_32F, 255.0);
    scaled.convertTo(image8, CV_8U);
    out.thumbnail_png = Thumbnail(image8, c.thumbnail_px, c.channel_order == "rgb");
  }
  return out;
}

std::string ImageRecordJson(const PreparedImage& p, const std::vector<float>* embedding) {
  JsonWriter w(256 + p.thumbnail_png.size() * 4 / 3);
  w.BeginObject().Key("image").BeginObject();
  w.Key("format").String(p.format).Key("width").Int(p.source_width);
  w.Key("height").Int(p.source_height).Key("sha256").String(p.sha256);
  if (!p.thumbnail_png.empty()) w.Key("thumbnail_png").String(Base64Encode(p.thumbnail_png));
  w.EndObject();
  w.Key("brightness").Double(p.stats.brightness).Key("contrast").Double(p.stats.contrast);
  if (embedding != nullptr && !embedding->empty()) {
    w.Key("embedding").BeginArray();
    for (float v : *embedding) w.Double(v);
    w.EndArray();
  }
  w.EndObject();
  return std::move(w).Take();
}

StatusOr<std::vector<float>> LoggedImageEmbedding(std::string_view record) {
  thread_local simdjson::dom::parser parser;
  simdjson::dom::element doc;
  if (parser.parse(record.data(), record.size()).get(doc)) {
    return InvalidArgument("not a logged image record");
  }
  simdjson::dom::array arr;
  if (doc["embedding"].get(arr)) return NotFound("no embedding logged");
  std::vector<float> v;
  v.reserve(arr.size());
  for (auto e : arr) {
    double d;
    if (e.get(d)) return InvalidArgument("a logged embedding holds a non-number");
    v.push_back(static_cast<float>(d));
  }
  return v;
}

}  // namespace closedloop
