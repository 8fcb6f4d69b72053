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

// Writes `spec` as an OCI layout in a scratch directory and inspects it.
Result<InspectReport> inspect_spec(const ImageSpec& spec, const InspectOptions& options = {}) {
  DISTILL_TRY(auto scratch, util::TempDir::create());
  std::string ref = write_image(scratch.path(), spec);
  DISTILL_TRY(auto opened, open_image(ref, "amd64"));
  DISTILL_TRY(auto view, ImageView::load(*opened->manifest));
  return inspect_image(*opened, view, options);
}

TEST(InspectTest, JsonReportsLayersConfigPackagesAndFiles) {
  ImageSpec spec;
  spec.layers = {base_layer(), {dir("app"), file("app/run", "#!x", 0755)}};
  spec.created_by = {"distill: packages libfoo1", "distill: files of app"};
  spec.config = base_config();
  spec.config.entrypoint = std::vector<std::string>{"/app/run"};
  InspectOptions options;
  options.files = true;
  auto report = inspect_spec(spec, options);
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
  auto scratch = util::TempDir::create();
  ASSERT_TRUE(scratch.ok());
  auto wrong = open_image(write_image(scratch->path(), spec), "arm64");
  ASSERT_FALSE(wrong.ok());
  EXPECT_NE(wrong.error().message.find("linux/amd64"), std::string::npos);
}

TEST(InspectReads, PackageRecordsAndTheirFileListsOnly) {
  for (const char* yes :
       {"var/lib/dpkg/status", "var/lib/dpkg/status.d/libc6", "var/lib/dpkg/status.d/libc6.md5sums",
        "var/lib/dpkg/info/libc6:amd64.list", "var/lib/dpkg/info/libc6.md5sums"}) {
    EXPECT_TRUE(inspect_reads(yes)) << yes;
  }
  for (const char* no : {"etc/passwd", "etc/os-release", "var/lib/dpkg/status.d/x/y",
                         "var/lib/dpkg/info/libc6.postinst", "var/lib/dpkg/info/sub/libc6.list",
                         "var/lib/dpkg/statusx"}) {
    EXPECT_FALSE(inspect_reads(no)) << no;
  }
  // What installed_packages alone reads: no file lists.
  EXPECT_TRUE(is_package_record("var/lib/dpkg/status.d/libc6", false));
  EXPECT_FALSE(is_package_record("var/lib/dpkg/status.d/libc6.md5sums", false));
  EXPECT_FALSE(is_package_record("var/lib/dpkg/info/libc6:amd64.list", false));
}

// A view loaded with inspect_reads holds every file inspect_image reads: the
// report comes out whole with the layer files gone.
TEST(InspectReads, InspectReadsNoLayerAgain) {
  ImageSpec spec;
  spec.layers = {base_layer(), {dir("app"), file("app/run", "#!x", 0755)}};
  spec.config = base_config();
  auto scratch = util::TempDir::create();
  ASSERT_TRUE(scratch.ok());
  auto opened = open_image(write_image(scratch->path(), spec), "amd64");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto full = ImageView::load(**opened);
  auto kept = ImageView::load(**opened, inspect_reads);
  ASSERT_TRUE(full.ok() && kept.ok());
  auto expected = inspect_image(**opened, *full, {});
  ASSERT_TRUE(expected.ok()) << expected.error().message;
  ASSERT_EQ(expected->packages.size(), 2U);
  for (const auto& layer : (*opened)->manifest->layer_files) {
    std::filesystem::remove(layer);
  }
  auto report = inspect_image(**opened, *kept, {});
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(to_json(*report), to_json(*expected));
}

// Issue 11, item 10: a file name that is not UTF-8 used to make the JSON
// library throw; its bad bytes are written as \xNN instead.
TEST(InspectTest, NonUtf8FileNamesAreEscapedInJson) {
  ImageSpec spec;
  spec.layers = {
      base_layer(),
      {dir("app"), file("app/caf\xe9", "x", 0644), file("app/\xc3\xa9t\xc3\xa9", "y", 0644)}};
  spec.created_by = {"distill: packages libfoo1", "distill: files of app"};
  spec.config = base_config();
  InspectOptions options;
  options.files = true;
  auto report = inspect_spec(spec, options);
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

namespace distill::check {
namespace {

using namespace testing;  // NOLINT

// Three layers as distill makes them: two packages in one layer, one package
// alone (its conffile is in no md5sums), then generated + application files.
ImageSpec usage_image() {
  ImageSpec spec;
  spec.layers = {
      {dir("usr"), dir("usr/lib"), file("usr/lib/liba.so.1", std::string(3000, 'a')),
       file("usr/lib/libb.so.1", std::string(1000, 'b')), symlink("usr/lib/liba.so", "liba.so.1"),
       dir("etc"), file("etc/b.conf", "b=1\n"), dir("var"), dir("var/lib"), dir("var/lib/dpkg"),
       dir("var/lib/dpkg/status.d"),
       file("var/lib/dpkg/status.d/liba1", "Package: liba1\nVersion: 1.0\nArchitecture: amd64\n"),
       file("var/lib/dpkg/status.d/liba1.md5sums",
            "0123456789abcdef0123456789abcdef  usr/lib/liba.so.1\n"),
       file("var/lib/dpkg/status.d/libb1", "Package: libb1\nVersion: 2.0\nArchitecture: amd64\n"),
       file("var/lib/dpkg/status.d/libb1.md5sums",
            "0123456789abcdef0123456789abcdef  usr/lib/libb.so.1\n")},
      {dir("usr"), dir("usr/bin"), file("usr/bin/tool", std::string(5000, 't'), 0755), dir("etc"),
       file("etc/tool.conf", "x\n"), dir("var"), dir("var/lib"), dir("var/lib/dpkg"),
       dir("var/lib/dpkg/status.d"),
       file("var/lib/dpkg/status.d/tool", "Package: tool\nVersion: 3.0\nArchitecture: amd64\n"),
       file("var/lib/dpkg/status.d/tool.md5sums",
            "0123456789abcdef0123456789abcdef  usr/bin/tool\n")},
      {dir("etc"), file("etc/passwd", "root:x:0:0::/root:/sbin/nologin\n"), dir("app"),
       file("app/server", std::string(20000, 's'), 0755), file("etc/b.conf", "b=2\n")},
  };
  spec.created_by = {"distill: packages liba1 1.0, libb1 2.0", "distill: packages tool 3.0",
                     "distill: accounts, ld.so.cache, files of hello"};
  spec.config = base_config();
  return spec;
}

TEST(InspectUsageTest, LayersSayWhatTheyHoldAndSizesGoToTheirPackages) {
  auto scratch = util::TempDir::create();
  ASSERT_TRUE(scratch.ok());
  std::string ref = write_image(scratch->path(), usage_image());
  auto opened = open_image(ref, "amd64");
  ASSERT_TRUE(opened.ok()) << opened.error().message;
  auto view = ImageView::load(*(*opened)->manifest);
  ASSERT_TRUE(view.ok());
  InspectOptions options;
  options.largest = 2;
  auto report = inspect_image(**opened, *view, options);
  ASSERT_TRUE(report.ok()) << report.error().message;

  ASSERT_EQ(report->layers.size(), 3U);
  EXPECT_EQ(report->layers[0].holds, std::vector<std::string>{"packages"});
  EXPECT_EQ(report->layers[0].packages, (std::vector<std::string>{"liba1 1.0", "libb1 2.0"}));
  EXPECT_EQ(report->layers[1].packages, std::vector<std::string>{"tool 3.0"});
  EXPECT_EQ(report->layers[2].holds, (std::vector<std::string>{"generated", "application"}));
  EXPECT_TRUE(report->layers[2].packages.empty());
  // Layer 0 still provides 2 libraries, the symlink and 4 status files; its
  // etc/b.conf was replaced by layer 2's.
  EXPECT_EQ(report->layers[0].files, 7U);
  EXPECT_EQ(report->layers[2].files, 3U);
  EXPECT_EQ(report->layers[2].content_size, 20000U + 4 + 32);

  ASSERT_EQ(report->largest_files.size(), 2U);
  EXPECT_EQ(report->largest_files[0].path, "/app/server");
  EXPECT_EQ(report->largest_files[0].package, "");
  EXPECT_EQ(report->largest_files[0].layer, 2U);
  EXPECT_EQ(report->largest_files[1].path, "/usr/bin/tool");
  EXPECT_EQ(report->largest_files[1].package, "tool");

  // tool: its binary, its conffile (alone in its layer) and its status files.
  ASSERT_EQ(report->package_sizes.size(), 3U);
  EXPECT_EQ(report->package_sizes[0].name, "tool");
  EXPECT_EQ(report->package_sizes[0].version, "3.0");
  EXPECT_EQ(report->package_sizes[0].files, 4U);
  uint64_t tool_status = std::string("Package: tool\nVersion: 3.0\nArchitecture: amd64\n").size() +
                         std::string("0123456789abcdef0123456789abcdef  usr/bin/tool\n").size();
  EXPECT_EQ(report->package_sizes[0].size, 5000U + 2 + tool_status);
  EXPECT_EQ(report->package_sizes[1].name, "liba1");
  EXPECT_EQ(report->package_sizes[1].files, 3U);  // the library and its 2 status files
  EXPECT_EQ(report->package_sizes[2].name, "libb1");
  // The symlink in the two-package layer is in no md5sums.
  ASSERT_EQ(report->unpackaged.size(), 2U);
  EXPECT_EQ(report->unpackaged[0].name, "generated");  // the top layer's first kind
  EXPECT_EQ(report->unpackaged[0].size, 20000U + 4 + 32);
  EXPECT_EQ(report->unpackaged[1].name, "packages");
  EXPECT_EQ(report->unpackaged[1].files, 1U);

  // Every byte of the merged view is counted once.
  uint64_t total = 0;
  for (const auto& [path, info] : view->files()) {
    total += info.is_regular() ? info.size : 0;
  }
  uint64_t shares = 0;
  for (const auto& share : report->package_sizes) {
    shares += share.size;
  }
  for (const auto& share : report->unpackaged) {
    shares += share.size;
  }
  uint64_t layers = 0;
  for (const auto& layer : report->layers) {
    layers += layer.content_size;
  }
  EXPECT_EQ(shares, total);
  EXPECT_EQ(layers, total);

  nlohmann::json json = to_json(*report);
  EXPECT_EQ(json["layers"][0]["holds"][0], "packages");
  EXPECT_EQ(json["layers"][1]["packages"][0], "tool 3.0");
  EXPECT_EQ(json["largest_files"][1]["package"], "tool");
  EXPECT_EQ(json["package_sizes"][0]["name"], "tool");
  EXPECT_EQ(json["package_sizes"][0]["size"], report->package_sizes[0].size);
  EXPECT_EQ(json["unpackaged"][0]["kind"], "generated");

  std::string text = to_text(*report);
  EXPECT_NE(text.find("Largest files:\n"), std::string::npos);
  EXPECT_NE(text.find("/app/server  (layer 2)"), std::string::npos);
  EXPECT_NE(text.find("/usr/bin/tool  (layer 1, tool)"), std::string::npos);
  EXPECT_NE(text.find("packages: liba1, libb1"), std::string::npos);
  EXPECT_NE(text.find("generated + application: accounts, ld.so.cache, files of hello"),
            std::string::npos);
  EXPECT_NE(text.find("Size by package"), std::string::npos);
}

TEST(InspectUsageTest, ClassicDpkgDatabaseListsOwnFiles) {
  ImageSpec spec;
  spec.layers = {{dir("bin"), file("bin/sh", std::string(700, 'x'), 0755), dir("etc"),
                  file("etc/shells", "/bin/sh\n"), dir("var"), dir("var/lib"), dir("var/lib/dpkg"),
                  dir("var/lib/dpkg/info"),
                  file("var/lib/dpkg/status",
                       "Package: dash\nStatus: install ok installed\nVersion: 0.5\n"
                       "Architecture: amd64\n"),
                  file("var/lib/dpkg/info/dash.list", "/.\n/bin\n/bin/sh\n/etc/shells\n")}};
  spec.created_by = {"ADD rootfs.tar /"};
  spec.config = base_config();
  auto report = inspect_spec(spec);
  ASSERT_TRUE(report.ok()) << report.error().message;
  EXPECT_EQ(report->layers[0].holds, std::vector<std::string>{"files"});
  ASSERT_EQ(report->package_sizes.size(), 1U);
  EXPECT_EQ(report->package_sizes[0].name, "dash");
  EXPECT_EQ(report->package_sizes[0].files, 3U);  // /bin/sh, /etc/shells and the .list
  EXPECT_EQ(report->package_sizes[0].size,
            700U + 8 + std::string("/.\n/bin\n/bin/sh\n/etc/shells\n").size());
  // The status file is no package's: the files of a layer distill did not make.
  ASSERT_EQ(report->unpackaged.size(), 1U);
  EXPECT_EQ(report->unpackaged[0].name, "files");
  std::string text = to_text(*report);
  EXPECT_NE(text.find("(other files, no package)"), std::string::npos) << text;
  EXPECT_EQ(text.find("(files files, no package)"), std::string::npos) << text;
}

// A one-layer image another tool made from a root file system that holds a
// distroless status entry: the layer is not distill's, so what no file list
// names is no package's (it used to be all libssl3's) and the labels say so.
ImageSpec foreign_rootfs_image(const std::string& created_by) {
  ImageSpec spec;
  spec.layers = {{dir("usr"), dir("usr/lib"), file("usr/lib/libssl.so.3", std::string(3000, 'l')),
                  symlink("usr/lib/libssl.so", "libssl.so.3"), dir("etc"),
                  file("etc/passwd", "root:x:0:0::/root:/sbin/nologin\n"), dir("app"),
                  file("app/server", std::string(20000, 's'), 0755), dir("var"), dir("var/lib"),
                  dir("var/lib/dpkg"), dir("var/lib/dpkg/status.d"),
                  file("var/lib/dpkg/status.d/libssl3",
                       "Package: libssl3\nVersion: 3.0.11\nArchitecture: amd64\n"),
                  file("var/lib/dpkg/status.d/libssl3.md5sums",
                       "0123456789abcdef0123456789abcdef  usr/lib/libssl.so.3\n")}};
  spec.created_by = {created_by};
  spec.config = base_config();
  return spec;
}

TEST(InspectUsageTest, AForeignLayerCreditsOnlyListedFilesToItsPackage) {
  for (const char* created_by : {"umoci repack", "/bin/sh -c apt-get install packages libssl3"}) {
    auto report = inspect_spec(foreign_rootfs_image(created_by));
    ASSERT_TRUE(report.ok()) << report.error().message;

    ASSERT_EQ(report->layers.size(), 1U);
    EXPECT_EQ(report->layers[0].holds, (std::vector<std::string>{"files", "packages"}));
    EXPECT_EQ(report->layers[0].packages, std::vector<std::string>{"libssl3 3.0.11"});
    // libssl3: its library and its two status files, nothing else.
    ASSERT_EQ(report->package_sizes.size(), 1U);
    EXPECT_EQ(report->package_sizes[0].name, "libssl3");
    EXPECT_EQ(report->package_sizes[0].files, 3U);
    ASSERT_EQ(report->largest_files.size(), 5U);
    EXPECT_EQ(report->largest_files[0].path, "/app/server");
    EXPECT_EQ(report->largest_files[0].package, "");
    EXPECT_EQ(report->largest_files[1].path, "/usr/lib/libssl.so.3");
    EXPECT_EQ(report->largest_files[1].package, "libssl3");
    // The server, /etc/passwd and the symlink md5sums do not name.
    ASSERT_EQ(report->unpackaged.size(), 1U);
    EXPECT_EQ(report->unpackaged[0].name, "files");
    EXPECT_EQ(report->unpackaged[0].files, 3U);
    EXPECT_EQ(report->unpackaged[0].size, 20000U + 32);

    std::string text = to_text(*report);
    EXPECT_NE(text.find("  files + packages: libssl3\n"), std::string::npos) << text;
    EXPECT_NE(text.find("/app/server  (layer 0)\n"), std::string::npos) << text;
    EXPECT_NE(text.find("(other files, no package)"), std::string::npos) << text;
    EXPECT_EQ(text.find("files files"), std::string::npos) << text;
    EXPECT_EQ(text.find("packages packages"), std::string::npos) << text;
  }
}

// A layer per package, as Bazel builds distroless: each layer holds one
// package's files and status entry. Its conffiles are the package's (its
// status entry names them) and so are its symbolic links, since every regular
// file of the layer is a package's; the application's layer stays no one's.
TEST(InspectUsageTest, ALayerPerPackageFromAnotherToolCreditsLinksAndConffiles) {
  auto status_dir = [] {
    return std::vector<Entry>{dir("var"), dir("var/lib"), dir("var/lib/dpkg"),
                              dir("var/lib/dpkg/status.d")};
  };
  std::vector<Entry> netbase = status_dir();
  for (auto e : {dir("etc"), file("etc/protocols", std::string(400, 'p')),
                 file("etc/services", std::string(900, 's')),
                 file("var/lib/dpkg/status.d/netbase",
                      "Package: netbase\nVersion: 6.4\nArchitecture: all\n"
                      "Conffiles:\n /etc/protocols 0123456789abcdef0123456789abcdef\n"
                      " /etc/services 0123456789abcdef0123456789abcdef\n"),
                 file("var/lib/dpkg/status.d/netbase.md5sums", "")}) {
    netbase.push_back(e);
  }
  std::vector<Entry> libssl = status_dir();
  for (auto e : {dir("usr"), dir("usr/lib"), file("usr/lib/libssl.so.3", std::string(3000, 'l')),
                 symlink("usr/lib/libssl.so", "libssl.so.3"),
                 file("var/lib/dpkg/status.d/libssl3",
                      "Package: libssl3\nVersion: 3.0.11\nArchitecture: amd64\n"),
                 file("var/lib/dpkg/status.d/libssl3.md5sums",
                      "0123456789abcdef0123456789abcdef  usr/lib/libssl.so.3\n")}) {
    libssl.push_back(e);
  }
  ImageSpec spec;
  spec.layers = {netbase,
                 libssl,
                 {dir("app"), file("app/server", std::string(20000, 's'), 0755),
                  symlink("app/run", "server")}};
  spec.created_by = {"", "", "bazel build //app:image"};
  spec.config = base_config();
  auto report = inspect_spec(spec);
  ASSERT_TRUE(report.ok()) << report.error().message;

  std::map<std::string, SizeShare> sizes;
  for (const auto& p : report->package_sizes) {
    sizes[p.name] = p;
  }
  ASSERT_EQ(sizes.size(), 2U);
  // The two conffiles and the status entry with its md5sums.
  EXPECT_EQ(sizes["netbase"].files, 4U);
  // The library, its link and the status entry with its md5sums.
  EXPECT_EQ(sizes["libssl3"].files, 4U);
  ASSERT_EQ(report->unpackaged.size(), 1U);
  EXPECT_EQ(report->unpackaged[0].files, 2U);  // /app/server and /app/run
}

// A package layer of distill's whose status entries a later layer removed:
// its kind comes from its created_by, which says "packages" too.
TEST(InspectUsageTest, APackageLayerWithoutItsStatusEntriesSaysPackagesOnce) {
  ImageSpec spec;
  spec.layers = {
      {dir("usr"), dir("usr/lib"), file("usr/lib/libssl.so.3", std::string(3000, 'l')), dir("var"),
       dir("var/lib"), dir("var/lib/dpkg"), dir("var/lib/dpkg/status.d"),
       file("var/lib/dpkg/status.d/libssl3",
            "Package: libssl3\nVersion: 3.0.11\nArchitecture: amd64\n")},
      {dir("var"), dir("var/lib"), dir("var/lib/dpkg"), file("var/lib/dpkg/.wh.status.d", "")}};
  spec.created_by = {"distill: packages libssl3 3.0.11", "/bin/sh -c rm -r /var/lib/dpkg/status.d"};
  spec.config = base_config();
  auto report = inspect_spec(spec);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->layers.size(), 2U);
  EXPECT_EQ(report->layers[0].holds, std::vector<std::string>{"packages"});
  EXPECT_TRUE(report->layers[0].packages.empty());
  std::string text = to_text(*report);
  EXPECT_NE(text.find("  packages: libssl3 3.0.11\n"), std::string::npos) << text;
  EXPECT_EQ(text.find("packages packages"), std::string::npos) << text;
  EXPECT_EQ(text.find("packages: packages"), std::string::npos) << text;
}

// An archive layer of distill's: "distill: archive NAME VERSION (URL) at DST"
// says its kind once too.
TEST(InspectUsageTest, AnArchiveLayerSaysArchiveOnce) {
  ImageSpec spec;
  spec.layers = {{dir("opt"), dir("opt/node"), file("opt/node/node", std::string(3000, 'n'))}};
  spec.created_by = {"distill: archive node 22.11.0 (https://nodejs.org/n.tgz) at /opt/node"};
  spec.config = base_config();
  auto report = inspect_spec(spec);
  ASSERT_TRUE(report.ok()) << report.error().message;
  ASSERT_EQ(report->layers.size(), 1U);
  EXPECT_EQ(report->layers[0].holds, std::vector<std::string>{"archive"});
  std::string text = to_text(*report);
  EXPECT_NE(text.find("  archive: node 22.11.0 (https://nodejs.org/n.tgz) at /opt/node"),
            std::string::npos)
      << text;
  EXPECT_EQ(text.find("archive: archive"), std::string::npos) << text;
}

}  // namespace
}  // namespace distill::check
