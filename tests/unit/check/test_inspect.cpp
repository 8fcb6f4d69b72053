// inspect_image over an OCI layout written in the test: platforms, layers with
// sizes and created_by, config, packages from status.d, the merged file list.
#include <gtest/gtest.h>

#include "check/inspect.hpp"
#include "check/json_text.hpp"
#include "test_image.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

using namespace testing;  // NOLINT

TEST(InspectTest, JsonReportsLayersConfigPackagesAndFiles) {
  auto scratch = util::TempDir::create();
  ASSERT_TRUE(scratch.ok());
  ImageSpec spec;
  spec.layers = {base_layer(), {dir("app"), file("app/run", "#!x", 0755)}};
  spec.created_by = {"distill: packages libfoo1", "distill: files of app"};
  spec.config = base_config();
  spec.config.entrypoint = std::vector<std::string>{"/app/run"};
  std::string ref = write_image(scratch->path(), spec);

  auto opened = open_image(ref, "amd64");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto view = ImageView::load(*(*opened)->manifest);
  ASSERT_TRUE(view.ok());
  InspectOptions options;
  options.files = true;
  auto report = inspect_image(**opened, *view, options);
  ASSERT_TRUE(report.ok()) << report.error().message;
  nlohmann::json json = to_json(*report);

  ASSERT_EQ(json["platforms"].size(), 1U);
  EXPECT_EQ(json["platform"], "linux/amd64");
  EXPECT_EQ(json["manifest_digest"], json["platforms"][0]["digest"]);
  ASSERT_EQ(json["layers"].size(), 2U);
  EXPECT_EQ(json["layers"][0]["created_by"], "distill: packages libfoo1");
  EXPECT_EQ(json["layers"][1]["created_by"], "distill: files of app");
  for (const auto& layer : json["layers"]) {
    EXPECT_GT(layer["uncompressed_size"].get<uint64_t>(), layer["size"].get<uint64_t>() / 2);
    EXPECT_EQ(layer["uncompressed_size"].get<uint64_t>() % 512, 0U);
  }
  EXPECT_EQ(json["config"]["user"], "65532");
  EXPECT_EQ(json["config"]["entrypoint"][0], "/app/run");
  EXPECT_TRUE(json["config"]["cmd"].is_null());
  ASSERT_EQ(json["packages"].size(), 2U);
  EXPECT_EQ(json["packages"][1]["name"], "libfoo1");
  EXPECT_EQ(json["packages"][1]["version"], "1:2.3-4+deb12u1");
  EXPECT_EQ(json["packages"][1]["arch"], "amd64");
  EXPECT_EQ(json["packages"][1]["source"], "foo");
  EXPECT_EQ(json["packages"][1]["maintainer"], "Foo Team <foo@example.org>");
  EXPECT_EQ(json["packages"][0]["source"], "libbar+plus");

  bool saw_tmp = false;
  for (const auto& file : json["files"]) {
    if (file["path"] == "/tmp") {
      saw_tmp = true;
      EXPECT_EQ(file["mode"], "dtrwxrwxrwx");
    }
    if (file["path"] == "/home/nonroot") {
      EXPECT_EQ(file["uid"], 65532);
    }
  }
  EXPECT_TRUE(saw_tmp);
  std::string text = to_text(*report);
  EXPECT_NE(text.find("libfoo1"), std::string::npos);
  EXPECT_NE(text.find("dtrwxrwxrwx"), std::string::npos);

  // The wrong architecture is an error naming what the image has.
  auto wrong = open_image(ref, "arm64");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("linux/amd64"), std::string::npos);
}

// Issue 11, item 10: a file name that is not UTF-8 used to make the JSON
// library throw; its bad bytes are written as \xNN instead.
TEST(InspectTest, NonUtf8FileNamesAreEscapedInJson) {
  auto scratch = util::TempDir::create();
  ASSERT_TRUE(scratch.ok());
  ImageSpec spec;
  spec.layers = {
      base_layer(),
      {dir("app"), file("app/caf\xe9", "x", 0644), file("app/\xc3\xa9t\xc3\xa9", "y", 0644)}};
  spec.created_by = {"distill: packages libfoo1", "distill: files of app"};
  spec.config = base_config();
  std::string ref = write_image(scratch->path(), spec);
  auto opened = open_image(ref, "amd64");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto view = ImageView::load(*(*opened)->manifest);
  ASSERT_TRUE(view.ok());
  InspectOptions options;
  options.files = true;
  auto report = inspect_image(**opened, *view, options);
  ASSERT_TRUE(report.ok()) << report.error().message;
  std::string text = to_json(*report).dump(2);  // throws on invalid UTF-8
  auto parsed = nlohmann::json::parse(text);
  bool escaped = false;
  bool kept = false;
  for (const auto& f : parsed["files"]) {
    escaped = escaped || f["path"] == "/app/caf\\xe9";
    kept = kept || f["path"] == "/app/\xc3\xa9t\xc3\xa9";
  }
  EXPECT_TRUE(escaped) << text;
  EXPECT_TRUE(kept) << text;
}

TEST(JsonText, EscapesOnlyInvalidBytes) {
  EXPECT_EQ(json_text("plain/path"), "plain/path");
  EXPECT_EQ(json_text("\xc3\xa9"), "\xc3\xa9");
  EXPECT_EQ(json_text("\xe2\x82\xac"), "\xe2\x82\xac");
  EXPECT_EQ(json_text("\xf0\x9f\x98\x80"), "\xf0\x9f\x98\x80");
  EXPECT_EQ(json_text("a\xff"
                      "b"),
            "a\\xffb");
  EXPECT_EQ(json_text("\xc0\xaf"), "\\xc0\\xaf");           // overlong '/'
  EXPECT_EQ(json_text("\xed\xa0\x80"), "\\xed\\xa0\\x80");  // surrogate
  EXPECT_EQ(json_text("\xe2\x82"), "\\xe2\\x82");           // truncated
}

}  // namespace
}  // namespace distill::check
