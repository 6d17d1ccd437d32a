// Image inputs: header sizes, decoding, layout and normalization arithmetic, the
// request fields, base64 and the [image] config.
#include "serving/image_input.h"

#include <gtest/gtest.h>

#include <cmath>
#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>

#include "core/base64.h"
#include "serving/model_config.h"
#include "serving/predict_request.h"

namespace closedloop {
namespace {

std::string Encode(const cv::Mat& m, const std::string& ext) {
  std::vector<uchar> buf;
  EXPECT_TRUE(cv::imencode(ext, m, buf));
  return std::string(buf.begin(), buf.end());
}

ImageConfig Rgb(int w, int h) {
  ImageConfig c;
  c.width = w;
  c.height = h;
  c.channels = 3;
  return c;
}

TEST(Base64Test, RoundTripsAndNamesBadInput) {
  for (const std::string& s :
       std::vector<std::string>{"", "a", "ab", "abc", "abcd", std::string("\0\xff\x10", 3)}) {
    auto back = Base64Decode(Base64Encode(s));
    ASSERT_TRUE(back.ok());
    EXPECT_EQ(*back, s);
  }
  EXPECT_EQ(Base64Encode("hello"), "aGVsbG8=");
  EXPECT_EQ(*Base64Decode("aGVs\nbG8"), "hello");  // line breaks, no padding
  auto bad = Base64Decode("aGV*bG8=");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("offset 3"), std::string::npos);
  EXPECT_FALSE(Base64Decode("a").ok());
}

TEST(ImageInputTest, ReadsPngAndJpegSizesFromTheHeader) {
  cv::Mat m(30, 50, CV_8UC3, cv::Scalar(10, 20, 30));
  auto png = EncodedImageSize(Encode(m, ".png"));
  ASSERT_TRUE(png.ok()) << png.status().message();
  EXPECT_EQ(png->width, 50);
  EXPECT_EQ(png->height, 30);
  EXPECT_EQ(png->format, "png");
  auto jpg = EncodedImageSize(Encode(m, ".jpg"));
  ASSERT_TRUE(jpg.ok()) << jpg.status().message();
  EXPECT_EQ(jpg->width, 50);
  EXPECT_EQ(jpg->height, 30);
  EXPECT_EQ(jpg->format, "jpeg");
  EXPECT_NE(EncodedImageSize("GIF89a....").status().message().find("neither a PNG nor a JPEG"),
            std::string::npos);
  EXPECT_FALSE(EncodedImageSize(Encode(m, ".png").substr(0, 15)).ok());
  EXPECT_FALSE(EncodedImageSize(Encode(m, ".jpg").substr(0, 6)).ok());
}

TEST(ImageInputTest, DecodesResizesAndNormalizesPerChannel) {
  // 2x1 image: left pixel pure red, right pure blue (OpenCV stores BGR).
  cv::Mat m(1, 2, CV_8UC3);
  m.at<cv::Vec3b>(0, 0) = {0, 0, 255};
  m.at<cv::Vec3b>(0, 1) = {255, 0, 0};
  ImageConfig c = Rgb(2, 1);
  c.mean = {0.5, 0.5, 0.5};
  c.std = {0.5, 0.25, 0.5};
  auto p = PrepareEncodedImage(Encode(m, ".png"), c);
  ASSERT_TRUE(p.ok()) << p.status().message();
  // NCHW, RGB: R plane (1, -1), G plane (-2, -2), B plane (-1, 1).
  std::vector<float> want = {1, -1, -2, -2, -1, 1};
  ASSERT_EQ(p->values.size(), want.size());
  for (size_t i = 0; i < want.size(); ++i) EXPECT_NEAR(p->values[i], want[i], 1e-6) << i;
  EXPECT_NEAR(p->stats.brightness, 1.0 / 3, 1e-6);
  EXPECT_EQ(p->format, "png");
  EXPECT_EQ(p->sha256.size(), 64u);
  EXPECT_FALSE(p->thumbnail_png.empty());

  c.layout = "nhwc";
  c.channel_order = "bgr";
  auto q = PrepareEncodedImage(Encode(m, ".png"), c);
  ASSERT_TRUE(q.ok());
  // NHWC, BGR: pixel 0 (B,G,R) = (0,0,255) -> (-1, -2, 1); pixel 1 -> (1, -2, -1).
  std::vector<float> want_bgr = {-1, -2, 1, 1, -2, -1};
  for (size_t i = 0; i < want_bgr.size(); ++i) EXPECT_NEAR(q->values[i], want_bgr[i], 1e-6) << i;

  // A larger image is resized to the model's size; grey models decode grey.
  cv::Mat big(40, 40, CV_8UC1, cv::Scalar(255));
  ImageConfig g;
  g.width = g.height = 8;
  g.channels = 1;
  auto r = PrepareEncodedImage(Encode(big, ".jpg"), g);
  ASSERT_TRUE(r.ok()) << r.status().message();
  ASSERT_EQ(r->values.size(), 64u);
  EXPECT_NEAR(r->values[0], 1.0, 0.02);
  EXPECT_EQ(r->source_width, 40);
}

TEST(ImageInputTest, ArraysMustHaveTheModelsShapeAndLayout) {
  ImageConfig c = Rgb(2, 1);
  c.scale = 1;
  // [H=1][W=2][C=3]
  std::vector<float> hwc = {1, 2, 3, 4, 5, 6};
  auto p = PrepareImageArray(hwc, {1, 2, 3}, c);
  ASSERT_TRUE(p.ok()) << p.status().message();
  std::vector<float> nchw = {1, 4, 2, 5, 3, 6};
  EXPECT_EQ(p->values, nchw);
  EXPECT_EQ(p->format, "array");
  EXPECT_NEAR(p->stats.brightness, 3.5, 1e-9);
  EXPECT_NEAR(p->stats.contrast, std::sqrt(35.0 / 12), 1e-9);

  auto wrong = PrepareImageArray(hwc, {2, 1, 3}, c);
  ASSERT_FALSE(wrong.ok());
  EXPECT_EQ(wrong.status().message(),
            "field 'image' has shape [2][1][3]; the model expects [1][2][3] ([H][W][C])");

  c.json_layout = "chw";  // [C=3][H=1][W=2]
  auto chw = PrepareImageArray({1, 4, 2, 5, 3, 6}, {3, 1, 2}, c);
  ASSERT_TRUE(chw.ok()) << chw.status().message();
  EXPECT_EQ(chw->values, nchw);

  ImageConfig g;
  g.width = 2;
  g.height = 2;
  g.channels = 1;
  EXPECT_TRUE(PrepareImageArray({0, 1, 2, 3}, {2, 2}, g).ok());  // [H][W] for grey
  EXPECT_TRUE(PrepareImageArray({0, 1, 2, 3}, {2, 2, 1}, g).ok());
}

TEST(ImageInputTest, RefusesCorruptAndHugeImagesWithoutDecoding) {
  ImageConfig c = Rgb(8, 8);
  cv::Mat m(64, 64, CV_8UC3, cv::Scalar(1, 2, 3));
  std::string png = Encode(m, ".png");
  auto truncated = PrepareEncodedImage(png.substr(0, png.size() / 2), c);
  ASSERT_FALSE(truncated.ok());
  EXPECT_EQ(truncated.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(truncated.status().message().find("cannot be decoded"), std::string::npos);

  // A header claiming 10000 x 10000 pixels: refused from the header alone.
  std::string huge = png.substr(0, 33);
  const uint32_t side = 10000;
  for (int i = 0; i < 4; ++i) {
    huge[16 + i] = static_cast<char>((side >> (24 - 8 * i)) & 0xff);
    huge[20 + i] = static_cast<char>((side >> (24 - 8 * i)) & 0xff);
  }
  auto big = PrepareEncodedImage(huge, c);
  ASSERT_FALSE(big.ok());
  EXPECT_EQ(big.status().code(), StatusCode::kPayloadTooLarge);
  EXPECT_NE(big.status().message().find("10000x10000 image (100000000 pixels)"), std::string::npos)
      << big.status().message();

  auto text = PrepareEncodedImage("hello, not an image", c);
  ASSERT_FALSE(text.ok());
  EXPECT_NE(text.status().message().find("field 'image_b64'"), std::string::npos);

  float values[3] = {1, std::nanf(""), 2};
  EXPECT_NE(CheckFiniteImageValues(values, 3, "image").message().find("element 1"),
            std::string::npos);
}

TEST(ImageInputTest, DescribesANormalizedTensorRowByUndoingTheNormalization) {
  ImageConfig c = Rgb(2, 1);
  c.mean = {0.5, 0.5, 0.5};
  c.std = {0.5, 0.5, 0.5};
  std::vector<float> nchw = {1, -1, 1, -1, 1, -1};  // x = 1 for pixel 0, 0 for pixel 1
  PreparedImage d = DescribeImageTensorRow(nchw.data(), c);
  EXPECT_NEAR(d.stats.brightness, 0.5, 1e-6);
  EXPECT_NEAR(d.stats.contrast, 0.5, 1e-6);
  EXPECT_EQ(d.format, "tensor");
  std::string json = ImageRecordJson(d, nullptr);
  EXPECT_NE(json.find("\"brightness\":0.5"), std::string::npos) << json;
  EXPECT_NE(json.find("\"thumbnail_png\":\"iVBOR"), std::string::npos) << json;
}

TEST(ImageRequestTest, ParsesImageFieldsAndNamesErrors) {
  auto r = ParsePredictRequest(R"({"model":"m","image":[[[1,2,3],[4,5,6]]]})", 100);
  ASSERT_TRUE(r.ok()) << r.status().message();
  EXPECT_TRUE(r->has_image);
  EXPECT_EQ(r->image_dims, (std::vector<int64_t>{1, 2, 3}));
  EXPECT_EQ(r->image, (std::vector<float>{1, 2, 3, 4, 5, 6}));
  auto b = ParsePredictRequest(R"({"image_b64":"data:image/png;base64,aGVsbG8="})", 100, false);
  ASSERT_TRUE(b.ok()) << b.status().message();
  EXPECT_EQ(b->image_bytes, "hello");
  auto err = [](std::string_view body) {
    auto x = ParsePredictRequest(body, 100);
    return x.ok() ? std::string() : x.status().message();
  };
  EXPECT_NE(err(R"({"model":"m","image":[[1,2],[3]]})").find("not rectangular"), std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[[1,2],[3,"x"]]})").find("holds a string"),
            std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[[1e39]]})").find("not a finite FP32"), std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[[[[1]]]]})").find("deeper than"), std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[1,2]})").find("2 or 3 dimensions"), std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[[1,[2]]]})").find("mixes numbers and arrays"),
            std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[[1,2],[[3],[4]]]})").find("mixes numbers and arrays"),
            std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[[[3],[4]],[1,2]]})").find("mixes numbers and arrays"),
            std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image":[[1]],"text":"x"})").find("not several"),
            std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image_b64":"@@@"})").find("field 'image_b64'"), std::string::npos);
  EXPECT_NE(err(R"({"model":"m","image_b64":5})").find("base64 string"), std::string::npos);
  EXPECT_EQ(err(R"({"image":[[1]]})"), "missing field 'model'");
}

TEST(ImageConfigTest, ParsesRendersAndNamesBadKeys) {
  auto c = ParseModelConfig(R"(flavor = "onnx"
labels = ["a", "b"]
[image]
width = 224
height = 112
channels = 3
layout = "nhwc"
mean = [0.485, 0.456, 0.406]
std = [0.229, 0.224, 0.225]
softmax = true
embedding_output = "features"
)",
                            "config.toml");
  ASSERT_TRUE(c.ok()) << c.status().message();
  ASSERT_TRUE(c->image.has_value());
  EXPECT_EQ(c->image->width, 224);
  EXPECT_EQ(c->image->height, 112);
  EXPECT_EQ(c->image->layout, "nhwc");
  EXPECT_TRUE(c->image->softmax);
  auto back = ParseModelConfig(RenderModelConfig(*c), "config.toml");
  ASSERT_TRUE(back.ok()) << back.status().message();
  EXPECT_EQ(back->image->mean, c->image->mean);
  EXPECT_EQ(back->image->embedding_output, "features");
  EXPECT_EQ(back->image->scale, c->image->scale);

  auto err = [](const std::string& image) {
    auto r = ParseModelConfig("flavor = \"onnx\"\n[image]\n" + image, "config.toml");
    return r.ok() ? std::string() : r.status().message();
  };
  EXPECT_EQ(err("width = 8\n"), "'image.width' and 'image.height' are required");
  EXPECT_EQ(err("width = 8\nheight = 8\nchannels = 2\n"), "'image.channels' must be 1 or 3");
  EXPECT_EQ(err("width = 8\nheight = 8\nlayout = \"chw\"\n"),
            "'image.layout' must be one of \"nchw\", \"nhwc\"");
  EXPECT_EQ(err("width = 8\nheight = 8\nmean = [0.5]\n"),
            "'image.mean' must be an array of 3 numbers (one per channel)");
  EXPECT_EQ(err("width = 8\nheight = 8\nstd = [1, 0, 1]\n"),
            "'image.std' must hold finite numbers greater than 0");
  EXPECT_EQ(err("width = 8\nheight = 8\nzoom = 2\n"), "unknown key 'image.zoom'");
}

}  // namespace
}  // namespace closedloop
