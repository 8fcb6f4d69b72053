// prune_cache: what goes and what stays, by each kind's rule (an entry with
// its stamp, layer blobs kept by their records, release dates never), under
// exact and daily access times; dry runs, a directory that is not a cache,
// a cache in use, and a file system that keeps no access times.
#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/stat.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <string>
#include <utility>
#include <vector>

#include "image/cache_prune.hpp"
#include "image/layer_cache.hpp"
#include "net/content_cache.hpp"
#include "util/clock.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

constexpr int64_t k_now = 1'800'000'000;
constexpr int64_t k_day = 24 * 3600;

class CachePruneTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-prune-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    for (const char* sub : {"sha256", "tmp", "verified"}) {
      fs::create_directories(root() / sub);
    }
  }
  [[nodiscard]] fs::path root() const { return m_dir->path(); }

  // Writes `relative` with its access and modification times `days_ago`.
  fs::path put(const std::string& relative, const std::string& content, double days_ago) {
    fs::path path = root() / relative;
    fs::create_directories(path.parent_path());
    EXPECT_TRUE(util::write_file_atomic(path, content).ok());
    age(path, days_ago);
    return path;
  }
  static void age(const fs::path& path, double days_ago) {
    const auto at = static_cast<time_t>(k_now - static_cast<int64_t>(days_ago * k_day));
    const timespec times[2] = {{at, 0}, {at, 0}};
    ASSERT_EQ(::utimensat(AT_FDCWD, path.c_str(), times, AT_SYMLINK_NOFOLLOW), 0) << path;
  }
  // A layer blob of `content` in the cache's blob store.
  oci::LayerBlob put_blob(const std::string& content, double days_ago) {
    oci::LayerBlob blob;
    blob.descriptor.media_type = "application/vnd.oci.image.layer.v1.tar+gzip";
    blob.descriptor.digest = crypto::sha256(content);
    blob.descriptor.size = content.size();
    blob.diff_id = crypto::sha256("tar of " + content);
    blob.file = put("blobs/sha256/" + blob.descriptor.digest.hex(), content, days_ago);
    return blob;
  }
  // A layer record made by LayerCache itself, naming a blob of `content`.
  void put_layer(const std::string& key, const std::string& content, double record_days_ago,
                 double blob_days_ago) {
    const LayerCache layers(root());
    const oci::LayerBlob blob = put_blob(content, blob_days_ago);
    ASSERT_TRUE(layers.store(key, blob).ok());
    age(layers.record_dir() / (key + ".json"), record_days_ago);
    age(blob.file, blob_days_ago);
  }
  Result<PruneResult> prune(int64_t unused_days, bool dry_run = false,
                            AccessTimes access = AccessTimes::Exact) {
    PruneOptions options;
    options.unused_for = unused_days * k_day;
    options.dry_run = dry_run;
    options.access_times = access;
    return prune_cache(root(), options, m_clock);
  }
  [[nodiscard]] bool has(const std::string& relative) const {
    return fs::exists(fs::symlink_status(root() / relative));
  }
  static const PruneCount& count(const PruneResult& result, const std::string& kind) {
    auto it = std::find_if(result.kinds.begin(), result.kinds.end(),
                           [&](const PruneCount& c) { return c.kind == kind; });
    EXPECT_NE(it, result.kinds.end()) << kind;
    return *it;
  }

  std::unique_ptr<util::TempDir> m_dir;
  util::FixedClock m_clock{k_now};
};

TEST_F(CachePruneTest, RemovesWhatWentUnusedAndKeepsTheRest) {
  // A .deb looked up yesterday (its stamp read) is used, whatever its own age.
  put("sha256/aaaa", "deb a", 90);
  put("verified/aaaa", "5:1", 1);
  put("sha256/bbbb", "deb b", 90);
  put("verified/bbbb", "5:2", 60);
  put("verified/cccc", "5:3", 60);  // its entry went before
  put("sha256/dddd", "deb d", 2);   // never stamped, fetched lately
  // Layers: one looked up lately, its blob old; one unused, and its blob.
  put_layer("used", "layer used", 1, 90);
  put_layer("unused", "layer unused", 45, 45);
  put("blobs/sha256/" + std::string(64, 'e'), "orphan", 50);   // no record names it
  put("blobs/sha256/" + std::string(64, 'f'), "recent", 0.5);  // nor this one, but recent
  put("release-dates/suite", "2026-01-01", 400);               // never removed
  put("sboms/old.json", "{}", 31);
  put("views/new.bin", "v", 29);
  put("mine/notes.txt", "not the cache's", 400);  // not a kind: untouched
  put("sha256/.part.tmp.x1", "abandoned download", 0);
  fs::create_symlink(root() / "mine" / "notes.txt", root() / "controls");

  auto pruned = prune(30);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_TRUE(has("sha256/aaaa") && has("verified/aaaa"));
  EXPECT_FALSE(has("sha256/bbbb") || has("verified/bbbb") || has("verified/cccc"));
  EXPECT_TRUE(has("sha256/dddd"));
  const std::string used = crypto::sha256("layer used").hex();
  const std::string unused = crypto::sha256("layer unused").hex();
  EXPECT_TRUE(has("layers/used.json") && has("blobs/sha256/" + used));
  EXPECT_FALSE(has("layers/unused.json") || has("blobs/sha256/" + unused));
  EXPECT_FALSE(has("blobs/sha256/" + std::string(64, 'e')));
  EXPECT_TRUE(has("blobs/sha256/" + std::string(64, 'f')));
  EXPECT_TRUE(has("release-dates/suite"));
  EXPECT_FALSE(has("sboms/old.json"));
  EXPECT_TRUE(has("views/new.bin"));
  EXPECT_TRUE(has("mine/notes.txt"));
  EXPECT_TRUE(has("controls")) << "a link in the cache's place is not followed, nor removed";
  EXPECT_FALSE(has("sha256/.part.tmp.x1")) << "abandoned temporaries are swept";

  const PruneResult& r = *pruned;
  EXPECT_EQ(count(r, "sha256").removed_files, 1U);
  EXPECT_EQ(count(r, "sha256").kept_files, 2U);
  EXPECT_EQ(count(r, "verified").removed_files, 2U);
  EXPECT_EQ(count(r, "blobs").removed_files, 2U);
  EXPECT_EQ(count(r, "blobs").kept_files, 2U);
  EXPECT_EQ(count(r, "layers").removed_files, 1U);
  EXPECT_EQ(count(r, "release-dates").kept_files, 1U);
  EXPECT_EQ(count(r, "release-dates").removed_files, 0U);
  EXPECT_EQ(r.total().removed_files, 7U);
  EXPECT_EQ(r.removed.size(), 7U);
  EXPECT_TRUE(std::is_sorted(r.removed.begin(), r.removed.end()));
  EXPECT_NE(std::find(r.removed.begin(), r.removed.end(), "sha256/bbbb"), r.removed.end());
  EXPECT_NE(std::find(r.removed.begin(), r.removed.end(), "layers/unused.json"), r.removed.end());

  // The prune read the kept record (for the blobs it names) without moving
  // its access time: else every prune would keep every record it reads.
  struct stat record {};
  ASSERT_EQ(::stat((root() / "layers" / "used.json").c_str(), &record), 0);
  EXPECT_EQ(record.st_atim.tv_sec, k_now - k_day);

  // What was kept is found again: the layer is still a hit.
  EXPECT_TRUE(LayerCache(root()).lookup("used").has_value());
}

// The records of the layers one build made are one file under each key's
// name (LayerCache::store_all): kept or removed together, their bytes counted
// once, and the blobs they name kept while they are.
TEST_F(CachePruneTest, ABuildsSharedRecordsGoTogetherCountedOnce) {
  const LayerCache layers(root());
  ASSERT_TRUE(
      layers.store_all({{"one", put_blob("layer one", 45)}, {"two", put_blob("layer two", 45)}})
          .ok());
  age(layers.record_dir() / "one.json", 1);  // both names: one inode
  const uint64_t record_bytes = fs::file_size(layers.record_dir() / "one.json");

  auto kept = prune(30);
  ASSERT_TRUE(kept.ok()) << kept.error().message;
  EXPECT_TRUE(has("layers/one.json") && has("layers/two.json"));
  EXPECT_TRUE(has("blobs/sha256/" + crypto::sha256("layer two").hex()));
  EXPECT_EQ(count(*kept, "layers").kept_files, 2U);
  EXPECT_EQ(count(*kept, "layers").kept_bytes, record_bytes);

  age(layers.record_dir() / "two.json", 40);
  auto removed = prune(30);
  ASSERT_TRUE(removed.ok()) << removed.error().message;
  EXPECT_FALSE(has("layers/one.json") || has("layers/two.json"));
  EXPECT_FALSE(has("blobs/sha256/" + crypto::sha256("layer one").hex()));
  EXPECT_EQ(count(*removed, "layers").removed_files, 2U);
  EXPECT_EQ(count(*removed, "layers").removed_bytes, record_bytes);
}

TEST_F(CachePruneTest, ADryRunNamesWhatWouldGoAndRemovesNothing) {
  put("sha256/bbbb", "deb b", 90);
  put("verified/bbbb", "5:2", 60);
  put("sha256/.part.tmp.x1", "abandoned download", 0);
  auto pruned = prune(30, /*dry_run=*/true);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_EQ(pruned->removed, (std::vector<std::string>{"sha256/bbbb", "verified/bbbb"}));
  EXPECT_TRUE(has("sha256/bbbb") && has("verified/bbbb") && has("sha256/.part.tmp.x1"));
  // 0: every entry, whatever its age (the release dates excepted).
  put("release-dates/suite", "2026-01-01", 400);
  put("views/new.bin", "v", 0);
  pruned = prune(0, /*dry_run=*/true);
  ASSERT_TRUE(pruned.ok());
  EXPECT_EQ(pruned->removed,
            (std::vector<std::string>{"sha256/bbbb", "verified/bbbb", "views/new.bin"}));
}

// Under relatime a read moves the access time only once it is a day old, so
// an entry read an hour ago may show yesterday's: it counts as used a day
// longer than its times say.
TEST_F(CachePruneTest, DailyAccessTimesCountADayMore) {
  put("sboms/a.json", "{}", 1.5);
  auto daily = prune(1, true, AccessTimes::Daily);
  ASSERT_TRUE(daily.ok());
  EXPECT_TRUE(daily->removed.empty());
  auto exact = prune(1, true, AccessTimes::Exact);
  ASSERT_TRUE(exact.ok());
  EXPECT_EQ(exact->removed, std::vector<std::string>{"sboms/a.json"});
  put("sboms/b.json", "{}", 2.5);
  daily = prune(1, true, AccessTimes::Daily);
  ASSERT_TRUE(daily.ok());
  EXPECT_EQ(daily->removed, std::vector<std::string>{"sboms/b.json"});
}

TEST_F(CachePruneTest, NoAccessTimesOnlyAllPrunes) {
  put("sboms/a.json", "{}", 90);
  auto refused = prune(30, false, AccessTimes::Untracked);
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.error().kind, ErrorKind::Unsupported);
  EXPECT_NE(refused.error().message.find("noatime"), std::string::npos);
  EXPECT_TRUE(has("sboms/a.json"));
  auto all = prune(0, false, AccessTimes::Untracked);
  ASSERT_TRUE(all.ok()) << all.error().message;
  EXPECT_FALSE(has("sboms/a.json"));
}

TEST_F(CachePruneTest, ADirectoryThatIsNotACacheIsLeftAlone) {
  auto other = util::TempDir::create("distill-not-a-cache-");
  ASSERT_TRUE(other.ok());
  fs::create_directories(other->path() / "refs" / "heads");  // a git repository's
  ASSERT_TRUE(util::write_file_atomic(other->path() / "refs" / "heads" / "main", "x").ok());
  PruneOptions options;
  options.unused_for = 0;
  auto refused = prune_cache(other->path(), options, m_clock);
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.error().message.find("not a distill cache"), std::string::npos);
  EXPECT_TRUE(fs::exists(other->path() / "refs" / "heads" / "main"));
  EXPECT_FALSE(fs::exists(other->path() / "lock")) << "nothing is made there either";
  auto missing = prune_cache(other->path() / "none", options, m_clock);
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

// A cache some process has open (a build, through net::ContentCache) is not
// pruned; once it is closed, it is.
TEST_F(CachePruneTest, ACacheInUseIsNotPruned) {
  put("sboms/a.json", "{}", 90);
  {
    auto open = net::ContentCache::open(root());
    ASSERT_TRUE(open.ok());
    auto copy = *open;  // copies share the hold
    auto busy = prune(30);
    ASSERT_FALSE(busy.ok());
    EXPECT_NE(busy.error().message.find("in use by another distill process"), std::string::npos)
        << busy.error().message;
    EXPECT_TRUE(has("sboms/a.json"));
  }
  auto pruned = prune(30);
  ASSERT_TRUE(pruned.ok()) << pruned.error().message;
  EXPECT_FALSE(has("sboms/a.json"));
}

}  // namespace
}  // namespace distill::image
