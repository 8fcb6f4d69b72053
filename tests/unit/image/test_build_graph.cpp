// The build pipeline at its seam: plan_build and execute against an
// in-memory signed repository (fake_repository.hpp), a fixed clock and a
// throwaway cache. No network, no curl, no wall clock.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>

#include <algorithm>
#include <atomic>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <map>
#include <mutex>
#include <set>

#include "archive/tar_reader.hpp"
#include "fake_repository.hpp"
#include "image/build.hpp"
#include "image/execute.hpp"
#include "image/flavors.hpp"
#include "image/output_template.hpp"
#include "image/plan.hpp"
#include "image/provenance.hpp"
#include "image/update.hpp"
#include "oci/blob_store.hpp"
#include "pipeline_test.hpp"
#include "util/file_io.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using testing::FakePackage;
using testing::FakeRepository;
using testing::MapHttp;

constexpr const char* k_pem = "-----BEGIN CERTIFICATE-----\nMIIBtest\n-----END CERTIFICATE-----\n";

// Stand-ins for every package the built-in flavors name, and busybox-static.
std::vector<FakePackage> flavor_packages() {
  std::vector<FakePackage> out = {
      {"base-files", "12.4", "amd64", "", {{"etc/debian_version", "12.4\n"}}},
      {"netbase", "6.4", "all", "", {{"etc/protocols", "ip 0 IP\n"}}},
      {"tzdata", "2024a", "all", "", {{"usr/share/zoneinfo/UTC", "TZif2"}}},
      {"media-types", "10.0", "all", "", {{"etc/mime.types", "text/plain txt\n"}}},
      {"ca-certificates",
       "20230311",
       "all",
       "",
       {{"usr/share/ca-certificates/mozilla/Test_Root.crt", k_pem}}},
      {"libc6", "2.36-9", "amd64", "", {{"usr/share/doc/libc6/copyright", "libc\n"}}},
      {"libssl3", "3.0.11", "amd64", "libc6", {{"usr/share/doc/libssl3/copyright", "ssl\n"}}},
      {"busybox-static", "1.35.0", "amd64", "", {{"bin/busybox", "not really busybox", 0755}}},
  };
  for (const char* name :
       {"libgomp1", "libstdc++6", "libgcc-s1", "gcc-12-base", "libc-bin", "python3.11-minimal",
        "libpython3.11-minimal", "libpython3.11-stdlib", "python3-distutils", "nodejs",
        "openjdk-17-jre-headless", "default-jre-headless", "libfontconfig1", "fonts-dejavu-core"}) {
    out.push_back(
        {name, "1.0", "amd64", "", {{"usr/share/doc/" + std::string(name) + "/x", name}}});
  }
  return out;
}

class BuildGraph : public testing::PipelineTest {
 protected:
  void SetUp() override { open(flavor_packages(), "distill-graph-"); }

  Result<std::vector<BuildResult>> build(const BuildRequest& r) { return build_images(r, *m_env); }

  // tzdata 2024b, with another zone file: the package the update tests move.
  static FakePackage newer_tzdata(FakePackage p) {
    p.version = "2024b";
    p.files = {{"usr/share/zoneinfo/UTC", "TZif2b"}};
    return p;
  }
  void publish_newer_tzdata() {
    auto packages = flavor_packages();
    for (auto& p : packages) {
      if (p.name == "tzdata") {
        p = newer_tzdata(p);
      }
    }
    m_repo.publish(m_http, packages);
  }
};

// Keep in step with ../../../docs/reproducibility.md: this digest is the
// project's reproducibility contract. It changes only when the bytes distill
// writes change (tar, gzip, JSON, ordering), and then on purpose.
constexpr const char* k_golden_index =
    "sha256:38d93d8f9628c9ff660c13628a060ed73fa14a490f8286b726abf66fb51902ce";

TEST_F(BuildGraph, GoldenDigest) {
  auto spec = write("golden/app.yaml",
                    "name: app\nfrom: static\nfiles:\n"
                    "  - {dst: /app/hello.txt, content: \"hello\\n\"}\n"
                    "entrypoint: [\"/app/hello.txt\"]\n");
  auto results = build(request({spec.string()}));
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), 1u);
  EXPECT_EQ(results->at(0).image.index_descriptor.digest.str(), k_golden_index)
      << "the golden index digest changed: if on purpose, update it here and in "
         "docs/reproducibility.md";
}

TEST_F(BuildGraph, PlanOfEveryFlavorAndVariantSharesNodes) {
  std::vector<std::string> flavors;
  for (const auto& name : flavor_names()) {
    if (find_flavor(name, "bookworm") != nullptr) {
      flavors.push_back(name);
    }
  }
  auto r = request(flavors);
  r.variants = {Variant::Latest, Variant::Nonroot, Variant::Debug, Variant::DebugNonroot};
  auto plan = plan_build(r, *m_env);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  ASSERT_EQ(plan->images.size(), flavors.size() * 4);
  // static's packages are one node, whatever number of images stand on it.
  size_t base_files_nodes = 0;
  std::set<std::string> keys;
  for (const auto& node : plan->nodes) {
    EXPECT_TRUE(keys.insert(node.key).second) << "two nodes with key " << node.key;
    for (const auto& p : node.packages) {
      base_files_nodes += node.kind == LayerNode::Kind::Packages && p.name == "base-files";
    }
  }
  EXPECT_EQ(base_files_nodes, 1u);
  // Every .deb is downloaded once.
  std::set<std::string> urls;
  for (const auto& item : plan->downloads) {
    EXPECT_TRUE(urls.insert(item.urls.at(0)).second) << item.urls.at(0);
  }
  EXPECT_EQ(urls.size(), flavor_packages().size());
  for (const auto& image : plan->images) {
    ASSERT_EQ(image.archs.size(), 1u);
    const auto& arch = image.archs[0];
    EXPECT_EQ(arch.layers.size(), arch.history.size()) << image.label();
    const auto& last = plan->nodes.at(arch.layers.back());
    EXPECT_EQ(last.kind == LayerNode::Kind::Busybox, is_debug(image.variant)) << image.label();
    bool nonroot = image.variant == Variant::Nonroot || image.variant == Variant::DebugNonroot;
    EXPECT_EQ(arch.config.user, nonroot ? "65532" : "0") << image.label();
    EXPECT_EQ(image.tag, image.variant == Variant::Latest ? "latest" : to_string(image.variant));
    EXPECT_EQ(debian_tag(image.release), "debian12");
  }
  // The plan needed the indices and no .deb.
  EXPECT_EQ(m_http.count(".deb"), 0u);
}

TEST_F(BuildGraph, SameDigestHoweverTheSpecPathIsSpelled) {
  write("proj/dir/hello.txt", "hi\n");
  auto spec = write("proj/dir/app.yaml",
                    "name: app\nfrom: static\nfiles:\n  - {src: hello.txt, dst: /hello.txt}\n");
  fs::path here = fs::current_path();
  std::vector<std::pair<fs::path, std::string>> spellings = {
      {spec.parent_path(), "app.yaml"},
      {spec.parent_path(), "./app.yaml"},
      {here, spec.string()},
      {spec.parent_path().parent_path(), "dir/app.yaml"},
      {spec.parent_path().parent_path(), "dir/../dir/app.yaml"},
  };
  std::set<std::string> digests;
  for (const auto& [cwd, name] : spellings) {
    fs::current_path(cwd);
    auto results = build(request({name}));
    fs::current_path(here);
    ASSERT_TRUE(results.ok()) << name << ": " << results.error().message;
    digests.insert(results->at(0).image.index_descriptor.digest.str());
  }
  EXPECT_EQ(digests.size(), 1u);
  // Nor does the directory it lives in matter.
  write("elsewhere/hello.txt", "hi\n");
  auto moved = write("elsewhere/app.yaml",
                     "name: app\nfrom: static\nfiles:\n  - {src: hello.txt, dst: /hello.txt}\n");
  auto results = build(request({moved.string()}));
  ASSERT_TRUE(results.ok()) << results.error().message;
  EXPECT_EQ(digests.count(results->at(0).image.index_descriptor.digest.str()), 1u);
}

TEST_F(BuildGraph, FamilyInOneProcessDownloadsEachDebOnceAndRebuildsNothing) {
  auto r = request({"static", "base"});
  r.variants = {Variant::Latest, Variant::Nonroot};
  auto results = build(r);
  ASSERT_TRUE(results.ok()) << results.error().message;
  ASSERT_EQ(results->size(), 4u);
  std::set<std::string> digests;
  for (const auto& result : *results) {
    digests.insert(result.image.index_descriptor.digest.str());
    ASSERT_EQ(result.outputs_written.size(), 1u);
    EXPECT_NE(result.outputs_written[0].find(result.name + "-" + to_string(result.variant)),
              std::string::npos);
  }
  EXPECT_EQ(digests.size(), 4u);
  // base = static + libc6 + libssl3: 7 .debs, each fetched once for 4 images.
  EXPECT_EQ(m_http.count(".deb"), 7u);
  size_t before = m_http.count("");
  auto again = build(r);
  ASSERT_TRUE(again.ok()) << again.error().message;
  for (size_t i = 0; i < again->size(); ++i) {
    EXPECT_EQ(again->at(i).image.index_descriptor.digest,
              results->at(i).image.index_descriptor.digest);
  }
  EXPECT_EQ(m_http.count(""), before) << "a rebuild within the freshness window asks nothing";
}

TEST_F(BuildGraph, LayersTheCacheHoldsNeedNoDebs) {
  auto r = request({"base"});
  auto first = build(r);
  ASSERT_TRUE(first.ok()) << first.error().message;
  // The .debs leave the content cache (as a sweep would take them); the layer
  // cache still holds every layer, so a rebuild downloads nothing.
  size_t removed = 0;
  for (const auto& entry : fs::directory_iterator(m_cache->dir() / "sha256")) {
    std::string head;
    std::ifstream(entry.path()) >> std::setw(7) >> head;
    if (head == "!<arch>") {
      removed += fs::remove(entry.path()) ? 1 : 0;
    }
  }
  EXPECT_EQ(removed, 7u) << "base's .debs";
  size_t debs = m_http.count(".deb");
  auto again = build(r);
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->at(0).image.index_descriptor.digest, first->at(0).image.index_descriptor.digest);
  EXPECT_EQ(m_http.count(".deb"), debs);
}

// With every package's library catalog in the cache, a stage's top layer
// (ld.so.cache) no longer waits for the package layers being made again: the
// image is the same.
TEST_F(BuildGraph, ATopLayerMadeBesideItsPackageLayersGivesTheSameDigest) {
  auto r = request({"static", "base"});
  auto first = build(r);
  ASSERT_TRUE(first.ok()) << first.error().message;
  ASSERT_TRUE(fs::exists(m_cache->dir() / "libraries")) << "catalogs recorded";
  for (int round = 0; round < 3; ++round) {
    ASSERT_GT(fs::remove_all(m_cache->dir() / "layers"), 1u) << "the layer cache is emptied";
    ASSERT_GT(fs::remove_all(m_cache->dir() / "blobs"), 1u);
    auto again = build(r);
    ASSERT_TRUE(again.ok()) << again.error().message;
    ASSERT_EQ(again->size(), first->size());
    for (size_t i = 0; i < first->size(); ++i) {
      EXPECT_EQ(again->at(i).image.index_descriptor.digest,
                first->at(i).image.index_descriptor.digest)
          << "round " << round << ", image " << i;
    }
  }
}

TEST_F(BuildGraph, AFailingLayerNamesItsImageAndWritesNoOutput) {
  m_http.m_corrupt.insert(std::string(testing::k_repo_url) + "/pool/main/tzdata_2024a_all.deb");
  auto r = request({"static", "base"});
  auto results = build(r);
  ASSERT_FALSE(results.ok());
  EXPECT_NE(results.error().message.find("tzdata"), std::string::npos) << results.error().message;
  EXPECT_NE(results.error().message.find("static:latest"), std::string::npos)
      << results.error().message;
  EXPECT_FALSE(fs::exists(m_work->path() / "out"));
  for (const auto& entry : fs::recursive_directory_iterator(m_work->path())) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
}

// Each layer made is reported once for every image that uses it, while the
// build runs (what copies it beside the images' oci: outputs); a build's
// layout gets every blob, and nothing staged is left beside it.
TEST_F(BuildGraph, EveryNewLayerIsReportedForEachImageUsingIt) {
  auto r = request({"static", "base"});
  auto plan = plan_build(r, *m_env);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  std::mutex mutex;
  std::vector<std::set<std::string>> reported(plan->images.size());
  size_t calls = 0;
  auto images = execute(*plan, r, *m_env, [&](size_t image, const oci::LayerBlob& blob) {
    std::lock_guard lock(mutex);
    ++calls;
    EXPECT_TRUE(blob.hashed);
    EXPECT_TRUE(fs::exists(blob.file));
    reported.at(image).insert(blob.descriptor.digest.str());
  });
  ASSERT_TRUE(images.ok()) << images.error().message;
  size_t layers = 0;
  for (size_t i = 0; i < images->size(); ++i) {
    std::set<std::string> used;
    for (const auto& layer : (*images)[i].manifests.at(0).layers) {
      used.insert(layer.descriptor.digest.str());
    }
    EXPECT_EQ(reported[i], used) << plan->images[i].label();
    layers += used.size();
  }
  EXPECT_EQ(calls, layers);

  // Built again through build_images: nothing new to report, every output whole.
  auto results = build(r);
  ASSERT_TRUE(results.ok()) << results.error().message;
  for (const auto& entry : fs::directory_iterator(m_work->path())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".out.")) << entry.path();
  }
  fs::remove_all(m_work->path() / "out");
  fs::remove_all(m_work->path() / "cache" / "layers");
  auto fresh = build(r);
  ASSERT_TRUE(fresh.ok()) << fresh.error().message;
  for (const auto& entry : fs::directory_iterator(m_work->path())) {
    EXPECT_FALSE(entry.path().filename().string().starts_with(".out.")) << entry.path();
  }
  for (const auto& result : *fresh) {
    for (const auto& layer : result.image.manifests.at(0).layers) {
      fs::path blob = m_work->path() / "out" / "blobs" / "sha256" / layer.descriptor.digest.hex();
      ASSERT_TRUE(fs::exists(blob)) << blob;
      EXPECT_EQ(fs::file_size(blob), layer.descriptor.size);
      EXPECT_EQ(fs::hard_link_count(blob), 1U);
    }
  }
}

TEST_F(BuildGraph, AStopRequestLetsRunningLayersFinishAndStartsNoOther) {
  std::atomic<int> asked{0};
  m_env->stop_requested = [&] { return ++asked > 2; };  // Ctrl-C after two layers started
  auto results = build(request({"base"}));
  ASSERT_FALSE(results.ok());
  EXPECT_NE(results.error().message.find("interrupted"), std::string::npos)
      << results.error().message;
  EXPECT_GE(asked.load(), 3);
  EXPECT_FALSE(fs::exists(m_work->path() / "out"));
  for (const auto& entry : fs::recursive_directory_iterator(m_work->path() / "cache")) {
    EXPECT_EQ(entry.path().filename().string().find(".tmp"), std::string::npos) << entry.path();
  }
  // The layers that finished are cached: the next build makes only the rest.
  m_env->stop_requested = [] { return false; };
  auto again = build(request({"base"}));
  ASSERT_TRUE(again.ok()) << again.error().message;
}

TEST_F(BuildGraph, AStopRequestWithEveryLayerCachedWritesNoOutput) {
  auto first = build(request({"base"}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  fs::remove_all(m_work->path() / "out");
  // Nothing left to make: the stop is seen before the outputs are written.
  m_env->stop_requested = [] { return true; };
  auto results = build(request({"base"}));
  ASSERT_FALSE(results.ok());
  EXPECT_NE(results.error().message.find("interrupted"), std::string::npos)
      << results.error().message;
  EXPECT_FALSE(fs::exists(m_work->path() / "out"));
}

TEST_F(BuildGraph, ACachedLayerDamagedInPlaceIsMadeAgain) {
  auto first = build(request({"base"}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  fs::remove_all(m_work->path() / "out");
  // One byte of the largest cached layer flipped, its size and mtime kept: the
  // lookup trusts it, the copy into the output finds it out.
  const auto& layers = first->at(0).image.manifests.at(0).layers;
  const auto largest = std::max_element(layers.begin(), layers.end(), [](auto& a, auto& b) {
    return a.descriptor.size < b.descriptor.size;
  });
  fs::path blob = m_work->path() / "cache" / "blobs" / "sha256" / largest->descriptor.digest.hex();
  struct stat before {};
  ASSERT_EQ(::stat(blob.c_str(), &before), 0);
  {
    std::fstream file(blob, std::ios::in | std::ios::out | std::ios::binary);
    file.seekg(20);
    char byte = 0;
    file.get(byte);
    file.seekp(20);
    file.put(static_cast<char>(byte ^ 1));
  }
  const timespec times[2] = {before.st_atim, before.st_mtim};
  ASSERT_EQ(::utimensat(AT_FDCWD, blob.c_str(), times, 0), 0);

  auto again = build(request({"base"}));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->at(0).image.index_descriptor.digest, first->at(0).image.index_descriptor.digest);
  auto stored = oci::digest_file(blob);
  ASSERT_TRUE(stored.ok());
  EXPECT_EQ(stored->digest, largest->descriptor.digest);  // the cache holds the layer again
  EXPECT_TRUE(fs::exists(m_work->path() / "out" / "index.json"));
}

TEST_F(BuildGraph, ALockClaimingAnotherVersionFailsWhetherOrNotTheLayerIsCached) {
  auto first = build(request({"static"}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  debian::LockFile lock = first->at(0).lock;
  for (auto& p : lock.packages.at("amd64")) {
    if (p.name == "tzdata") {
      p.version = "9999";
    }
  }
  auto r = request({"static"});
  r.lock_file = write("edited.lock", debian::to_json(lock));
  r.outputs = {"oci:" + (m_work->path() / "edited").string() + ":x"};
  // The layer of the .deb is cached, made with the version it declares.
  auto locked = build(r);
  ASSERT_FALSE(locked.ok());
  EXPECT_NE(locked.error().message.find("'9999'"), std::string::npos) << locked.error().message;
  EXPECT_FALSE(fs::exists(m_work->path() / "edited"));
}

TEST_F(BuildGraph, AMissingPackageIsNamed) {
  auto spec = write("missing.yaml", "name: m\nfrom: static\npackages: [no-such-package]\n");
  auto results = build(request({spec.string()}));
  ASSERT_FALSE(results.ok());
  EXPECT_NE(results.error().message.find("no-such-package"), std::string::npos)
      << results.error().message;
}

TEST_F(BuildGraph, AMisspeltPackageOrFlavorGetsASuggestion) {
  auto spec = write("typo.yaml", "name: t\nfrom: static\npackages: [base-filez]\n");
  auto results = build(request({spec.string()}));
  ASSERT_FALSE(results.ok());
  EXPECT_NE(results.error().message.find("package 'base-filez' not found in "), std::string::npos)
      << results.error().message;
  EXPECT_NE(results.error().message.find(" (did you mean 'base-files'?)"), std::string::npos)
      << results.error().message;
  spec = write("flavor-typo.yaml", "name: t\nfrom: statik\n");
  auto prepared = prepare_build(request({spec.string()}));
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().message.find("flavor-typo.yaml:2: 'statik' is not a flavor, a spec "
                                          "file or an image reference (did you mean 'static'?)"),
            std::string::npos)
      << prepared.error().message;
  prepared = prepare_build(request({"bsae"}));
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().message,
            "usage: bsae: no such spec file or built-in flavor (did you mean 'base'?)");
}

TEST_F(BuildGraph, AnExcludeThatNamesNoPackageIsAWarningWithTheNearestName) {
  auto spec =
      write("ex.yaml", "name: ex\nfrom: static\npackages: [netbase]\nexclude: [netbsae, tzdata]\n");
  ::testing::internal::CaptureStderr();
  auto plan = plan_build(request({spec.string()}), *m_env);
  const std::string err = ::testing::internal::GetCapturedStderr();
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // tzdata is a package of the sources, and the static flavor's own list
  // (debconf, awk, ... which this repository has not) is not the user's: one
  // line.
  EXPECT_EQ(err, "distill: warning: " + (m_work->path() / "ex.yaml").string() +
                     ":4: exclude 'netbsae' names no package of the sources for amd64 (did you "
                     "mean 'netbase'?)\n");
}

TEST_F(BuildGraph, ACycleNamesEveryFile) {
  write("cycle/a.yaml", "name: a\nfrom: b.yaml\n");
  auto b = write("cycle/b.yaml", "name: b\nfrom: a.yaml\n");
  auto plan = plan_build(request({b.string()}), *m_env);
  ASSERT_FALSE(plan.ok());
  const auto& message = plan.error().message;
  EXPECT_NE(message.find("cycle"), std::string::npos) << message;
  EXPECT_NE(message.find("a.yaml:2"), std::string::npos) << message;
  EXPECT_NE(message.find("b.yaml:2"), std::string::npos) << message;
}

TEST_F(BuildGraph, ADeepChainIsNotACycle) {
  write("deep/s0.yaml", "name: s0\nfrom: static\nenv: {LEVEL: \"0\"}\n");
  for (int i = 1; i < 40; ++i) {
    write("deep/s" + std::to_string(i) + ".yaml",
          "name: s" + std::to_string(i) + "\nfrom: s" + std::to_string(i - 1) +
              ".yaml\nenv: {LEVEL: \"" + std::to_string(i) + "\"}\n");
  }
  auto plan = plan_build(request({(m_work->path() / "deep/s39.yaml").string()}), *m_env);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const auto& env = plan->images.at(0).archs.at(0).config.env;
  EXPECT_NE(std::find(env.begin(), env.end(), "LEVEL=39"), env.end());
}

// An image base on a local transport that is not there, or a reference that
// does not parse, is found as the chain loads, before the environment.
TEST_F(BuildGraph, AMissingLocalImageBaseIsFoundAsTheChainLoads) {
  auto spec = write("app/app.yaml",
                    "name: app\nfrom: oci:" + (m_work->path() / "none").string() + ":latest\n");
  auto prepared = prepare_build(request({spec.string()}));
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().kind, ErrorKind::NotFound);
  const auto& message = prepared.error().message;
  EXPECT_NE(message.find("app.yaml:2"), std::string::npos) << message;
  EXPECT_NE(message.find("does not exist"), std::string::npos) << message;
  spec = write("app/bad.yaml", "name: bad\nfrom: \"docker://\"\n");
  prepared = prepare_build(request({spec.string()}));
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().message.find("bad.yaml:2: invalid image reference"), std::string::npos)
      << prepared.error().message;
}

TEST_F(BuildGraph, AReleaseThatDisagreesWithTheBaseNamesBoth) {
  auto spec = write("mixed.yaml", "name: mixed\nfrom: static\nrelease: trixie\n");
  auto plan = plan_build(request({spec.string()}), *m_env);
  ASSERT_FALSE(plan.ok());
  const auto& message = plan.error().message;
  EXPECT_NE(message.find("mixed.yaml:3"), std::string::npos) << message;
  EXPECT_NE(message.find("bookworm/static.yaml (built-in)"), std::string::npos) << message;
  EXPECT_NE(message.find("bookworm"), std::string::npos) << message;
  EXPECT_NE(message.find("--release trixie"), std::string::npos) << message;
  EXPECT_EQ(m_http.count(""), 0u) << "refused before any request";
  // And by the step before the environment: the cache is not opened for it.
  auto prepared = prepare_build(request({spec.string()}));
  ASSERT_FALSE(prepared.ok());
  EXPECT_EQ(prepared.error().message, message);
}

// Stand-ins for trixie's flavor packages (t64 names, GCC 14, python3.13).
std::vector<FakePackage> trixie_packages() {
  std::vector<FakePackage> out = {
      {"base-files",
       "13.8",
       "amd64",
       "",
       {{"etc/debian_version", "13.2\n"}, {"bin", "", 0777, "usr/bin"}}},
      {"netbase", "6.5", "all", "", {{"etc/protocols", "ip 0 IP\n"}}},
      {"tzdata", "2025b", "all", "", {{"usr/share/zoneinfo/UTC", "TZif2"}}},
      {"media-types", "13.0", "all", "", {{"etc/mime.types", "text/plain txt\n"}}},
      {"ca-certificates",
       "20250419",
       "all",
       "",
       {{"usr/share/ca-certificates/mozilla/Test_Root.crt", k_pem}}},
      {"libc6", "2.41-12", "amd64", "libgcc-s1", {{"usr/share/doc/libc6/copyright", "libc\n"}}},
      {"libssl3t64", "3.5.1", "amd64", "libc6", {{"usr/share/doc/libssl3t64/copyright", "ssl\n"}}},
  };
  for (const char* name : {"libgomp1", "libstdc++6", "libgcc-s1", "gcc-14-base"}) {
    out.push_back(
        {name, "14.2", "amd64", "", {{"usr/share/doc/" + std::string(name) + "/x", name}}});
  }
  return out;
}

TEST_F(BuildGraph, ReleaseTrixieBuildsTrixieFlavorsFromSourcesDerivedFromTheHosts) {
  m_repo.publish(m_http, trixie_packages(), "trixie", "trixie");
  auto r = request({"cc"});
  r.release = "trixie";
  auto plan = plan_build(r, *m_env, false);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  const auto& image = plan->images.at(0);
  EXPECT_EQ(image.release, "trixie");
  EXPECT_EQ(debian_tag(image.release), "debian13");
  const auto& packages = image.lock.packages.at("amd64");
  for (const char* name : {"libssl3t64", "gcc-14-base", "libgcc-s1", "base-files"}) {
    EXPECT_TRUE(std::any_of(packages.begin(), packages.end(), [&](const auto& p) {
      return p.name == name;
    })) << name;
  }
  EXPECT_FALSE(std::any_of(packages.begin(), packages.end(),
                           [](const auto& p) { return p.name == "libssl3"; }));
  // The host lists bookworm only: trixie came from the same mirror, suite renamed.
  EXPECT_EQ(m_http.count(std::string(testing::k_repo_url) + "/dists/trixie/InRelease"), 1u);
  EXPECT_EQ(m_http.count(std::string(testing::k_repo_url) + "/dists/bookworm/"), 0u);
}

TEST_F(BuildGraph, TheSameSpecGivesTheDefaultDigestWithReleaseBookworm) {
  auto spec = write("same/app.yaml", "name: app\nfrom: base\n");
  auto first = build(request({spec.string()}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto r = request({spec.string()});
  r.release = "bookworm";
  auto second = build(r);
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(first->at(0).image.index_descriptor.digest,
            second->at(0).image.index_descriptor.digest);
}

TEST_F(BuildGraph, ATrixieSpecOnATrixieBaseIsOneImage) {
  m_repo.publish(m_http, trixie_packages(), "trixie", "trixie");
  auto spec = write("t/app.yaml", "name: app\nfrom: cc-debian13\nrelease: trixie\n");
  auto plan = plan_build(request({spec.string()}), *m_env, false);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(plan->images.at(0).release, "trixie");
  auto asked = request({(m_work->path() / "t/app.yaml").string()});
  write("t/app.yaml", "name: app\nfrom: cc\nrelease: trixie\n");
  asked.release = "trixie";
  auto with_flag = plan_build(asked, *m_env, false);
  ASSERT_TRUE(with_flag.ok()) << with_flag.error().message;
  EXPECT_EQ(with_flag->images.at(0).lock.packages, plan->images.at(0).lock.packages);
}

TEST_F(BuildGraph, ASpecOfAnotherReleaseThanAskedForIsRefusedBeforeAnyRequest) {
  auto spec = write("other.yaml", "name: other\nfrom: static\nrelease: bookworm\n");
  auto r = request({spec.string()});
  r.release = "trixie";
  auto plan = plan_build(r, *m_env);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("other.yaml:3: release 'bookworm', but --release trixie"),
            std::string::npos)
      << plan.error().message;
  EXPECT_EQ(m_http.count(""), 0u);
}

TEST_F(BuildGraph, AFlavorTheReleaseLacksSaysWhichReleasesHaveIt) {
  auto r = request({"java17"});
  r.release = "trixie";
  auto plan = plan_build(r, *m_env);
  ASSERT_FALSE(plan.ok());
  EXPECT_NE(plan.error().message.find("'java17' has no trixie version (it exists for bookworm; use "
                                      "--release bookworm or java17-debian12)"),
            std::string::npos)
      << plan.error().message;
}

TEST_F(BuildGraph, AReleaseTheMirrorDoesNotCarryNamesTheURLTried) {
  auto r = request({"static"});
  r.release = "trixie";
  auto plan = plan_build(r, *m_env);
  ASSERT_FALSE(plan.ok());
  // InRelease first, then Release: the error names the last URL tried.
  EXPECT_NE(plan.error().message.find(std::string(testing::k_repo_url) + "/dists/trixie/"),
            std::string::npos)
      << plan.error().message;
  EXPECT_NE(plan.error().message.find("HTTP 404"), std::string::npos) << plan.error().message;
}

TEST_F(BuildGraph, ASpecFileWinsOverAFlavorOfTheSameName) {
  write("prec/static", "name: mine\nfrom: base\n");
  auto spec = write("prec/app.yaml", "name: app\nfrom: static\n");
  auto plan = plan_build(request({spec.string()}), *m_env, false);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  // base's packages came in through the file named "static".
  const auto& packages = plan->images.at(0).lock.packages.at("amd64");
  EXPECT_TRUE(std::any_of(packages.begin(), packages.end(),
                          [](const auto& p) { return p.name == "libssl3"; }));
}

// A group's members must be users of the image when it is planned: the
// defaults, the chain's below and this spec's own, never a later spec's.
TEST_F(BuildGraph, AGroupMemberMustBeAUserOfTheImage) {
  auto unknown = write("members/unknown.yaml",
                       "name: unknown\nfrom: static\naccounts:\n  groups:\n"
                       "    - {name: g, gid: 1000, members: [nonroot, bob]}\n");
  auto refused = plan_build(request({unknown.string()}), *m_env);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(refused.error().message,
            unknown.string() + ":5: member 'bob' of group 'g' is not a user of the image");
  // `distill lock` (a plan that only resolves) refuses it the same way.
  auto lock = lock_image(request({unknown.string()}), *m_env);
  ASSERT_FALSE(lock.ok());
  EXPECT_EQ(lock.error().message, refused.error().message);

  // Defaults, this spec's users and the users of the spec below are members.
  write("members/below.yaml",
        "name: below\nfrom: static\naccounts:\n  users:\n    - {name: worker, uid: 1001}\n");
  auto known = write("members/known.yaml",
                     "name: known\nfrom: below.yaml\naccounts:\n"
                     "  users:\n    - {name: app, uid: 1000}\n"
                     "  groups:\n    - {name: crew, gid: 1000, members: [app, worker, nonroot]}\n");
  auto planned = plan_build(request({known.string()}), *m_env);
  EXPECT_TRUE(planned.ok()) << planned.error().message;

  // A user that only a spec above adds is not yet one below it.
  auto early = write("members/early.yaml",
                     "name: early\nfrom: static\naccounts:\n"
                     "  groups:\n    - {name: crew, gid: 1000, members: [late]}\n");
  auto late = write("members/late.yaml",
                    "name: late\nfrom: early.yaml\naccounts:\n"
                    "  users:\n    - {name: late, uid: 1002}\n");
  auto too_early = plan_build(request({late.string()}), *m_env);
  ASSERT_FALSE(too_early.ok());
  EXPECT_NE(too_early.error().message.find(
                early.string() + ":5: member 'late' of group 'crew' is not a user of the image"),
            std::string::npos)
      << too_early.error().message;
}

TEST_F(BuildGraph, LockIsThePlansPackageSet) {
  auto r = request({"base"});
  auto lock = lock_image(r, *m_env);
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  std::vector<std::string> names;
  for (const auto& p : lock->packages.at("amd64")) {
    names.push_back(p.name);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"base-files", "ca-certificates", "libc6", "libssl3",
                                             "media-types", "netbase", "tzdata"}));
  EXPECT_EQ(m_http.count(".deb"), 0u);
}

// Every manifest says what each layer holds and what the build resolved.
TEST_F(BuildGraph, ProvenanceNamesEveryLayerAndTheResolution) {
  auto spec = write("prov/app.yaml",
                    "name: app\nfrom: base\nfiles:\n"
                    "  - {dst: /app/hello.txt, content: \"hello\\n\"}\n");
  auto results = build(request({spec.string()}));
  ASSERT_TRUE(results.ok()) << results.error().message;
  const auto& manifest = results->at(0).image.manifests.at(0);
  std::vector<std::string> kinds;
  std::string packages;
  for (const auto& layer : manifest.layers) {
    kinds.push_back(layer.descriptor.annotations.at(std::string(k_layer_kind_annotation)));
    auto it = layer.descriptor.annotations.find(std::string(k_layer_packages_annotation));
    if (it != layer.descriptor.annotations.end()) {
      packages += it->second + ";";
    }
  }
  ASSERT_GE(kinds.size(), 4u);
  EXPECT_EQ(kinds.front(), "packages");
  EXPECT_EQ(kinds.back(), "files");
  EXPECT_NE(std::find(kinds.begin(), kinds.end(), "generated"), kinds.end());
  EXPECT_NE(packages.find("libc6=2.36-9/amd64"), std::string::npos) << packages;
  EXPECT_NE(packages.find("tzdata=2024a/all"), std::string::npos) << packages;

  auto json = manifest.manifest_json;
  ASSERT_NE(json.find(std::string(k_provenance_annotation)), std::string::npos);
  const auto& text = manifest.annotations.at(std::string(k_provenance_annotation));
  auto record = parse_provenance(text, "test");
  ASSERT_TRUE(record.ok()) << record.error().message;
  EXPECT_EQ(to_json(*record), text);  // the round trip keeps every byte
  EXPECT_EQ(record->arch, "amd64");
  EXPECT_EQ(record->variant, "latest");
  EXPECT_EQ(record->source_date_epoch, 1700000000);
  ASSERT_EQ(record->stages.size(), 3u);                                  // static, base, app.yaml
  EXPECT_EQ(record->stages[0].spec, "bookworm/static.yaml (built-in)");  // as history names it
  EXPECT_EQ(record->stages[1].packages, (std::vector<std::string>{"libc6", "libssl3"}));
  EXPECT_EQ(record->stages[2].spec, "app.yaml");
  EXPECT_EQ(record->stages[2].from, "base");
  ASSERT_TRUE(record->stages[2].files.has_value());
  EXPECT_EQ(record->stages[2].files->layer, manifest.layers.size() - 1);
  EXPECT_FALSE(record->stages[2].files->fingerprint.empty());
  ASSERT_FALSE(record->sources.empty());
  EXPECT_FALSE(record->sources[0].date.empty()) << "the Release Date is recorded";
  ASSERT_EQ(record->packages.size(), results->at(0).packages.at("amd64").size());
  for (const auto& p : results->at(0).packages.at("amd64")) {
    auto it = std::find_if(record->packages.begin(), record->packages.end(),
                           [&](const ResolvedPackage& r) { return r.name == p.name; });
    ASSERT_NE(it, record->packages.end()) << p.name;
    EXPECT_EQ(it->sha256, p.sha256.hex());
    EXPECT_EQ(it->version, p.version);
  }
  // No local path reaches the record.
  EXPECT_EQ(text.find(m_work->path().string()), std::string::npos) << text;
}

// The same inputs from another directory, with another cache, give the same
// record and the same digest; a locked build records the same provenance.
TEST_F(BuildGraph, ProvenanceIsTheSameFromAnotherCacheAndDirectory) {
  const char* text = "name: app\nfrom: static\nfiles:\n  - {src: hello.txt, dst: /hello.txt}\n";
  write("one/hello.txt", "hi\n");
  write("two/deeper/hello.txt", "hi\n");
  auto first = build(request({write("one/app.yaml", text).string()}));
  ASSERT_TRUE(first.ok()) << first.error().message;

  auto cache = net::ContentCache::open(m_work->path() / "other-cache");
  ASSERT_TRUE(cache.ok()) << cache.error().message;
  BuildEnv other{m_http, *cache, m_clock, m_progress, m_pool};
  auto second = build_images(request({write("two/deeper/app.yaml", text).string()}), other);
  ASSERT_TRUE(second.ok()) << second.error().message;

  const auto key = std::string(k_provenance_annotation);
  EXPECT_EQ(first->at(0).image.manifests.at(0).annotations.at(key),
            second->at(0).image.manifests.at(0).annotations.at(key));
  EXPECT_EQ(first->at(0).image.index_descriptor.digest,
            second->at(0).image.index_descriptor.digest);

  auto lock = write("app.lock", debian::to_json(first->at(0).lock));
  auto r = request({write("one/app.yaml", text).string()});
  r.lock_file = lock;
  auto locked = build(r);
  ASSERT_TRUE(locked.ok()) << locked.error().message;
  EXPECT_EQ(locked->at(0).image.index_descriptor.digest,
            first->at(0).image.index_descriptor.digest);
}

// A newer tzdata is published: update gives what `build --refresh` gives, the
// application layer unchanged, the tzdata layer new.
TEST_F(BuildGraph, UpdateGivesTheDigestOfARefreshedBuild) {
  auto spec = write("upd/app.yaml",
                    "name: app\nfrom: base\nfiles:\n"
                    "  - {dst: /app/hello.txt, content: \"hello\\n\"}\n"
                    "entrypoint: [\"/app/hello.txt\"]\nenv: {TZ: UTC}\n");
  auto first = build(request({spec.string()}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  const std::string layout = "oci:" + (m_work->path() / "out").string();

  publish_newer_tzdata();

  UpdateRequest u;
  u.image = layout + ":app-latest";
  u.outputs = {layout + ":updated"};
  u.apt_root = m_repo.apt_root();
  u.lock_out = m_work->path() / "updated.lock";
  auto updated = update_image(u, *m_env);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  ASSERT_EQ(updated->changes.size(), 1u);
  EXPECT_EQ(updated->changes[0].name, "tzdata");
  EXPECT_EQ(updated->changes[0].from_version, "2024a");
  EXPECT_EQ(updated->changes[0].to_version, "2024b");

  auto r = request({spec.string()});
  r.release_max_age = 0;
  r.outputs = {layout + ":refreshed"};
  auto refreshed = build(r);
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  const auto& a = updated->build.image;
  const auto& b = refreshed->at(0).image;
  EXPECT_EQ(a.index_descriptor.digest, b.index_descriptor.digest);
  EXPECT_EQ(a.manifests.at(0).config_json, b.manifests.at(0).config_json);
  EXPECT_EQ(a.manifests.at(0).manifest_json, b.manifests.at(0).manifest_json);
  const auto& before = first->at(0).image.manifests.at(0).layers;
  const auto& after = a.manifests.at(0).layers;
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(before.back().descriptor.digest, after.back().descriptor.digest)
      << "the application layer is the same blob";
  size_t changed = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    if (before[i].descriptor.digest != after[i].descriptor.digest) {
      ++changed;
      EXPECT_NE(after[i]
                    .descriptor.annotations.at(std::string(k_layer_packages_annotation))
                    .find("tzdata=2024b/all"),
                std::string::npos);
    }
  }
  EXPECT_EQ(changed, 1u);
  auto lock = util::read_file(u.lock_out);
  ASSERT_TRUE(lock.ok());
  EXPECT_EQ(*lock, debian::to_json(refreshed->at(0).lock));
}

// The variant, the epoch and the compression come back from the record: a
// nonroot zstd image with a newer libssl3 is what a refreshed build of it gives.
TEST_F(BuildGraph, UpdateKeepsVariantEpochAndCompression) {
  auto spec = write("var/app.yaml", "name: app\nfrom: cc\n");
  auto r = request({spec.string()});
  r.variants = {Variant::Nonroot};
  r.compression = archive::Compression::Zstd;
  r.source_date_epoch = 1234567;
  auto first = build(r);
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto packages = flavor_packages();
  for (auto& p : packages) {
    if (p.name == "libssl3") {
      p.version = "3.0.13";
    }
  }
  m_repo.publish(m_http, packages);
  const std::string layout = "oci:" + (m_work->path() / "out").string();
  UpdateRequest u;
  u.image = layout + ":app-nonroot";
  u.outputs = {layout + ":updated"};
  u.apt_root = m_repo.apt_root();
  auto updated = update_image(u, *m_env);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  ASSERT_EQ(updated->changes.size(), 1u);
  EXPECT_EQ(updated->changes[0].name, "libssl3");
  r.release_max_age = 0;
  auto refreshed = build(r);
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_EQ(updated->build.image.index_descriptor.digest,
            refreshed->at(0).image.index_descriptor.digest);
  EXPECT_NE(updated->build.image.index_descriptor.digest,
            first->at(0).image.index_descriptor.digest);
}

// A spec file too big to read back into memory (an application's jar) is
// read into a file of the update's: the image is still the refreshed build's.
TEST_F(BuildGraph, UpdateWithABigSpecFileGivesTheRefreshedDigest) {
  std::string big(3U << 20, '\0');
  for (size_t i = 0; i < big.size(); ++i) {
    big[i] = static_cast<char>((i * 2654435761U) >> 13);
  }
  write("bigfile/app.jar", big);
  auto spec = write("bigfile/app.yaml",
                    "name: app\nfrom: base\nfiles:\n"
                    "  - {src: app.jar, dst: /app/app.jar}\n"
                    "  - {dst: /app/small.txt, content: \"small\\n\"}\n");
  auto first = build(request({spec.string()}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  publish_newer_tzdata();
  const std::string layout = "oci:" + (m_work->path() / "out").string();
  UpdateRequest u;
  u.image = layout + ":app-latest";
  u.outputs = {layout + ":updated"};
  u.apt_root = m_repo.apt_root();
  auto updated = update_image(u, *m_env);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  auto r = request({spec.string()});
  r.release_max_age = 0;
  r.outputs = {layout + ":refreshed"};
  auto refreshed = build(r);
  ASSERT_TRUE(refreshed.ok()) << refreshed.error().message;
  EXPECT_EQ(updated->build.image.index_descriptor.digest,
            refreshed->at(0).image.index_descriptor.digest);
  const auto& before = first->at(0).image.manifests.at(0).layers;
  const auto& after = updated->build.image.manifests.at(0).layers;
  ASSERT_EQ(before.size(), after.size());
  EXPECT_EQ(before.back().descriptor.digest, after.back().descriptor.digest);
}

// --only moves the packages named; the others keep the image's versions and
// so their layers.
TEST_F(BuildGraph, UpdateOnlyMovesThePackagesNamed) {
  auto spec = write("only/app.yaml", "name: app\nfrom: base\n");
  auto first = build(request({spec.string()}));
  ASSERT_TRUE(first.ok()) << first.error().message;
  auto packages = flavor_packages();
  for (auto& p : packages) {
    if (p.name == "tzdata") {
      p = newer_tzdata(p);
    }
    if (p.name == "libssl3") {
      p.version = "3.0.13";
    }
  }
  m_repo.publish(m_http, packages);
  const std::string layout = "oci:" + (m_work->path() / "out").string();
  UpdateRequest u;
  u.image = layout + ":app-latest";
  u.outputs = {layout + ":only"};
  u.apt_root = m_repo.apt_root();
  u.only = {"nosuchpackage"};
  auto refused = update_image(u, *m_env);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().message.rfind("usage: --only nosuchpackage:", 0), 0u)
      << refused.error().message;

  u.only = {"libssl3"};
  auto updated = update_image(u, *m_env);
  ASSERT_TRUE(updated.ok()) << updated.error().message;
  ASSERT_EQ(updated->changes.size(), 1u);
  EXPECT_EQ(updated->changes[0].name, "libssl3");
  EXPECT_EQ(updated->changes[0].to_version, "3.0.13");
  std::map<std::string, std::string> versions;
  for (const auto& p : updated->build.packages.at("amd64")) {
    versions[p.name] = p.version;
  }
  EXPECT_EQ(versions["tzdata"], "2024a");
  EXPECT_EQ(versions["libssl3"], "3.0.13");
  // Every layer but libssl3's and the top one (ld.so.cache) is the image's.
  const auto& before = first->at(0).image.manifests.at(0).layers;
  const auto& after = updated->build.image.manifests.at(0).layers;
  ASSERT_EQ(before.size(), after.size());
  size_t changed = 0;
  for (size_t i = 0; i < before.size(); ++i) {
    changed += before[i].descriptor.digest != after[i].descriptor.digest;
  }
  EXPECT_LE(changed, 2u);
  EXPECT_GE(changed, 1u);
}

TEST_F(BuildGraph, UpdateRefusesAnImageWithoutProvenance) {
  auto spec = write("nop/app.yaml", "name: app\nfrom: static\n");
  auto r = request({spec.string()});
  auto archive = m_work->path() / "app.tar";
  r.outputs = {"docker-archive:" + archive.string()};
  ASSERT_TRUE(build(r).ok());
  UpdateRequest u;
  u.image = "docker-archive:" + archive.string();
  u.outputs = {"oci:" + (m_work->path() / "never").string() + ":x"};
  u.apt_root = m_repo.apt_root();
  auto updated = update_image(u, *m_env);
  ASSERT_FALSE(updated.ok());
  EXPECT_NE(updated.error().message.find("has no distill provenance"), std::string::npos)
      << updated.error().message;
  EXPECT_FALSE(fs::exists(m_work->path() / "never"));
}

TEST(Provenance, RefusesWhatIsNotARecord) {
  for (const char* bad : {"", "[]", "{\"version\":2,\"stages\":[{}]}", "{\"version\":1}",
                          "{\"version\":1,\"stages\":[{\"packages\":\"libc6\"}]}"}) {
    auto parsed = parse_provenance(bad, "oci:x");
    ASSERT_FALSE(parsed.ok()) << bad;
    EXPECT_EQ(parsed.error().message.rfind("oci:x: provenance record:", 0), 0u)
        << parsed.error().message;
  }
}

// `archives:` through the whole pipeline: one layer per archive, fetched once
// and verified, reused on a rebuild, recorded in the lock; a wrong digest and
// a missing architecture are named, and nothing lands under a wrong digest.
TEST_F(BuildGraph, ArchivesAreLayersOfTheirOwnFetchedOnceAndVerified) {
  std::string tar;
  {
    archive::StringSink sink(tar);
    archive::TarWriter writer(sink);
    archive::TarEntry dir;
    dir.path = "tool-1";
    dir.type = archive::EntryType::Directory;
    dir.mode = 0755;
    archive::TarEntry file;
    file.path = "tool-1/bin/tool";
    file.mode = 0755;
    file.uid = 1000;
    ASSERT_TRUE(writer.add(dir, std::string_view()).ok());
    ASSERT_TRUE(writer.add(file, std::string_view("#!tool\n")).ok());
    ASSERT_TRUE(writer.finish().ok());
  }
  const std::string url = "http://dl.test/tool-1.tar";
  m_http.m_files[url] = tar;
  const std::string digest = crypto::sha256(tar).hex();
  auto spec_with = [&](const std::string& name, const std::string& sha, const std::string& extra) {
    return write(name + ".yaml", "name: " + name + "\nfrom: static\narchives:\n" +
                                     "  - name: tool\n    version: \"1\"\n    url: " + url +
                                     "\n    sha256: " + sha + "\n    strip: 1\n" +
                                     "    dst: /opt/tool\n" + extra);
  };
  auto good = spec_with("good", digest, "");
  auto results = build(request({good.string()}));
  ASSERT_TRUE(results.ok()) << results.error().message;
  const auto& history = results->at(0).image.manifests.at(0).config.history;
  EXPECT_TRUE(std::any_of(history.begin(), history.end(), [&](const oci::HistoryEntry& h) {
    return h.created_by == "distill: archive tool 1 (" + url + ") at /opt/tool";
  }));
  EXPECT_EQ(m_http.count("tool-1.tar"), 1U);
  auto again = build(request({good.string()}));
  ASSERT_TRUE(again.ok()) << again.error().message;
  EXPECT_EQ(again->at(0).image.index_descriptor.digest,
            results->at(0).image.index_descriptor.digest);
  EXPECT_EQ(m_http.count("tool-1.tar"), 1U) << "the archive is in the cache";
  auto lock = lock_image(request({good.string()}), *m_env);
  ASSERT_TRUE(lock.ok()) << lock.error().message;
  ASSERT_EQ(lock->archives.at("amd64").size(), 1U);
  EXPECT_EQ(lock->archives.at("amd64")[0].url, url);
  EXPECT_EQ(lock->archives.at("amd64")[0].sha256.hex(), digest);

  const std::string wrong(64, 'f');
  auto bad = spec_with("bad", wrong, "");
  auto failed = build(request({bad.string()}));
  ASSERT_FALSE(failed.ok());
  EXPECT_NE(failed.error().message.find("archive tool 1 (" + url + ")"), std::string::npos)
      << failed.error().message;
  EXPECT_NE(failed.error().message.find("sha256 mismatch"), std::string::npos)
      << failed.error().message;
  EXPECT_FALSE(fs::exists(m_cache->path_for(*crypto::Digest::from_hex(wrong))));

  auto other_arch = spec_with("armonly", digest, "    arch: arm64\n");
  auto refused = build(request({other_arch.string()}));
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(
      refused.error().message.find("armonly.yaml:4: archive tool 1 has no download for amd64"),
      std::string::npos)
      << refused.error().message;
}

// Files and archives are placed over the layers below as Docker's COPY and ADD
// place theirs: a parent the base has keeps its owner and mode (/tmp 1777,
// /root 0700, the nonroot user's home), a parent that is a link there is
// followed (Debian 13's merged /usr: lib -> usr/lib), a missing one is 0755
// root. No .deb is read for it while planning.
TEST_F(BuildGraph, FilesAndArchivesArePlacedOverTheLayersBelow) {
  m_repo.publish(m_http, trixie_packages(), "trixie", "trixie");
  std::string tar;
  {
    archive::StringSink sink(tar);
    archive::TarWriter writer(sink);
    archive::TarEntry file;
    file.path = "libtool.so";
    file.mode = 0644;
    ASSERT_TRUE(writer.add(file, std::string_view("ELF?")).ok());
    ASSERT_TRUE(writer.finish().ok());
  }
  const std::string url = "http://dl.test/libtool.tar";
  m_http.m_files[url] = tar;
  auto spec =
      write("placed.yaml",
            "name: placed\nfrom: static\nfiles:\n"
            "  - {dst: /lib/x86_64-linux-gnu/libapp.so, content: x}\n"
            "  - {dst: /tmp/seed, content: s}\n"
            "  - {dst: /root/.profile, content: p}\n"
            "  - {dst: /home/nonroot/app.conf, content: c, uid: 65532}\n"
            "  - {dst: /opt/app/run, content: r, mode: 0755}\n"
            "  - {dst: /var/tmp/app/cache, content: v}\n"
            "  - {dst: /var/local/app.conf, content: l}\n"
            "archives:\n  - url: " +
                url + "\n    sha256: " + crypto::sha256(tar).hex() + "\n    dst: /lib/tool\n");
  auto r = request({spec.string()});
  r.release = "trixie";
  auto plan = plan_build(r, *m_env);
  ASSERT_TRUE(plan.ok()) << plan.error().message;
  EXPECT_EQ(m_http.count(".deb"), 0u);
  auto results = build(r);
  ASSERT_TRUE(results.ok()) << results.error().message;
  const auto& layers = results->at(0).image.manifests.at(0).layers;
  ASSERT_GE(layers.size(), 2u);
  auto entries_of = [](const oci::LayerBlob& layer) {
    std::map<std::string, archive::TarEntry> out;
    EXPECT_TRUE(archive::for_each_tar_entry(
                    layer.file,
                    [&](const archive::TarEntry& e, archive::ContentReader&) -> Status {
                      out[e.path] = e;
                      return {};
                    },
                    "layer")
                    .ok());
    return out;
  };
  auto top = entries_of(layers.back());
  auto dir = [&](const std::string& path, uint32_t mode, uint32_t uid) {
    auto it = top.find(path);
    ASSERT_NE(it, top.end()) << path;
    EXPECT_EQ(it->second.type, archive::EntryType::Directory) << path;
    EXPECT_EQ(it->second.mode, mode) << path;
    EXPECT_EQ(it->second.uid, uid) << path;
  };
  dir("tmp", 01777, 0);
  dir("root", 0700, 0);
  dir("home/nonroot", 0700, 65532);
  dir("home", 0755, 0);
  dir("opt", 0755, 0);
  dir("usr/lib", 0755, 0);
  dir("usr/lib/x86_64-linux-gnu", 0755, 0);
  // Directories base-files ships other than 0755 root keep their mode.
  dir("var/tmp", 01777, 0);
  dir("var/tmp/app", 0755, 0);
  dir("var/local", 0755, 0);
  EXPECT_EQ(top.count("usr/lib/x86_64-linux-gnu/libapp.so"), 1u);
  EXPECT_EQ(top.count("lib"), 0u) << "the link to usr/lib stays";
  EXPECT_EQ(top.count("lib/x86_64-linux-gnu/libapp.so"), 0u);
  // The archive's layer, below the files: its dst followed through the link.
  auto archive_layer = entries_of(layers.at(layers.size() - 2));
  EXPECT_EQ(archive_layer.count("usr/lib/tool/libtool.so"), 1u);
  EXPECT_EQ(archive_layer.count("lib"), 0u);
  ASSERT_EQ(archive_layer.count("usr/lib/tool"), 1u);
  EXPECT_EQ(archive_layer.at("usr/lib/tool").mode, 0755u);

  // Debian 12's packages ship lib as a directory: the file stays at lib/.
  m_repo.publish(m_http, flavor_packages());
  auto bookworm = build(request({spec.string()}));
  ASSERT_TRUE(bookworm.ok()) << bookworm.error().message;
  auto top12 = entries_of(bookworm->at(0).image.manifests.at(0).layers.back());
  EXPECT_EQ(top12.count("lib/x86_64-linux-gnu/libapp.so"), 1u);
  EXPECT_EQ(top12.at("tmp").mode, 01777u);
  EXPECT_EQ(top12.at("var/tmp").mode, 01777u);
  EXPECT_EQ(top12.at("var/local").mode, 02775u);
  EXPECT_EQ(top12.at("var/local").uid, 0u);
  EXPECT_EQ(top12.at("var/local").gid, 50u);
}

// Outputs that cannot all be written are usage errors found before any request
// (and so before any output is written).
TEST_F(BuildGraph, OutputsThatCannotAllBeWrittenAreRefusedBeforeAnyRequest) {
  struct Case {
    std::vector<std::string> specs;
    std::vector<std::string> archs;
    std::vector<std::string> outputs;
    std::string want;
  };
  const std::string out = (m_work->path() / "out").string();
  const std::string zeros = "sha256:" + std::string(64, '0');
  for (const Case& c : std::vector<Case>{
           {{"static"},
            {"amd64", "arm64"},
            {"docker-archive:" + out + "/d.tar"},
            "a docker-archive holds one platform, but static:latest is built for amd64, arm64"},
           {{"static"},
            {},
            {"oci-archive:" + out + "/a.tar", "oci:" + out + "/a.tar"},
            out + "/a.tar is written by -o 'oci-archive:" + out + "/a.tar' too"},
           {{"static"},
            {},
            {"oci-archive:" + out + "/a.tar:x", "oci-archive:" + out + "/a.tar:y"},
            "an archive holds one image"},
           {{"static", "static"}, {}, {"oci:" + out + "/{name}"}, "usage: static is named twice"},
           {{"static"},
            {},
            {"docker://127.0.0.1:9/x:y@" + zeros},
            "a destination takes a tag or a digest, not both"}}) {
    auto r = request(c.specs);
    r.archs = c.archs;
    r.outputs = c.outputs;
    auto refused = build(r);
    ASSERT_FALSE(refused.ok()) << c.want;
    EXPECT_EQ(refused.error().message.rfind("usage: ", 0), 0U) << refused.error().message;
    EXPECT_NE(refused.error().message.find(c.want), std::string::npos) << refused.error().message;
  }
  EXPECT_EQ(m_http.count(""), 0U);
  EXPECT_FALSE(fs::exists(out));
  // Layouts share a directory, each image under its own tag.
  auto r = request({"static"});
  r.outputs = {"oci:" + out + "/l:a", "oci:" + out + "/l:b"};
  auto built = build(r);
  ASSERT_TRUE(built.ok()) << built.error().message;
}

TEST(OutputTemplate, ExpandsAndRefuses) {
  OutputFields f{"cc", "nonroot", "nonroot", "debian12"};
  EXPECT_EQ(expand_output("oci:out/{name}-{debian}:{variant}", f), "oci:out/cc-debian12:nonroot");
  EXPECT_EQ(expand_output("docker://r/distroless/{name}:{tag}", f),
            "docker://r/distroless/cc:nonroot");
  for (const char* bad : {"oci:out/{nme}", "oci:out/{name", "oci:out/name}"}) {
    auto status = check_output_template(bad);
    ASSERT_FALSE(status.ok()) << bad;
    EXPECT_EQ(status.error().message.rfind("usage:", 0), 0u) << status.error().message;
  }
  BuildRequest r;
  r.specs = {"static", "base"};
  r.outputs = {"oci:out:latest"};
  auto status = check_outputs(r);
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message.rfind("usage:", 0), 0u);
  r.outputs = {"oci:out/{name}:latest"};
  EXPECT_TRUE(check_outputs(r).ok());
}

// What a build takes from its request alone, with no environment: each
// image's chain and outputs, and the errors of its specs and outputs.
TEST(PrepareBuild, FindsSpecsAndOutputsWithoutTheEnvironment) {
  BuildRequest r;
  r.specs = {"static", "base"};
  r.release = "bookworm";
  r.variants = {Variant::Latest, Variant::Nonroot};
  r.outputs = {"oci:out/{name}-{debian}:{variant}"};
  r.cache_to = "docker://127.0.0.1:5000/cache";
  auto prepared = prepare_build(r);
  ASSERT_TRUE(prepared.ok()) << prepared.error().message;
  ASSERT_EQ(prepared->chains.size(), 2U);
  EXPECT_EQ(prepared->chains[1].name, "base");
  ASSERT_EQ(prepared->outputs.size(), 4U);  // spec by spec, variant by variant
  EXPECT_EQ(prepared->outputs[3], std::vector<std::string>{"oci:out/base-debian12:nonroot"});
  ASSERT_TRUE(prepared->cache_to.has_value());
  EXPECT_FALSE(prepared->cache_from.has_value());

  r.specs = {"static", "no-such-flavor"};
  prepared = prepare_build(r);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().message.find("no-such-flavor"), std::string::npos)
      << prepared.error().message;
  r.specs = {"static"};
  r.cache_to = "docker://127.0.0.1:5000/cache@sha256:" + std::string(64, 'a');
  prepared = prepare_build(r);
  ASSERT_FALSE(prepared.ok());
  EXPECT_NE(prepared.error().message.find("needs a tag"), std::string::npos);
}

// base's layers to make, as the index gives their .debs' bytes: libc6, libssl3,
// tzdata and the small ones; the generated files' work is not known (0).
TEST(CompressingThreads, TheLargestLayerGetsEveryCoreTheOthersOne) {
  const uint64_t libc6 = 2'800'000, libssl3 = 2'000'000, tzdata = 300'000, small = 60'000;
  const uint64_t total = libc6 + libssl3 + tzdata + 4 * small;
  EXPECT_EQ(compressing_threads(libc6, libc6, total, 2), 2U);
  EXPECT_EQ(compressing_threads(libssl3, libc6, total, 2), 1U);
  EXPECT_EQ(compressing_threads(tzdata, libc6, total, 2), 1U);
  EXPECT_EQ(compressing_threads(0, libc6, total, 2), 2U) << "unknown work (an application's files)";
  EXPECT_EQ(compressing_threads(libc6, libc6, total, 1), 1U);
  EXPECT_EQ(compressing_threads(libc6, libc6, total, 0), 1U);
}

TEST(CompressingThreads, ALayerWithACoresShareOfTheWorkGetsEveryCore) {
  // Two architectures' JDKs: neither is alone the largest, each is half the work.
  EXPECT_EQ(compressing_threads(50, 50, 110, 2), 2U);
  EXPECT_EQ(compressing_threads(50, 50, 110, 4), 4U);
  EXPECT_EQ(compressing_threads(30, 50, 110, 4), 4U) << "30 * 4 >= 110";
  EXPECT_EQ(compressing_threads(25, 50, 110, 4), 1U);
}

}  // namespace
}  // namespace distill::image
