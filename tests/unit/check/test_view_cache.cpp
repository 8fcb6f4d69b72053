// ViewCache: a layer's read record survives encoding byte for byte and bytes
// that are not one are refused; keys cover every input; a view loaded through
// its Recall takes the layers it holds without their files (and checks, and
// scans), keeps the files the first load kept, and reads the layers it must.
#include <gtest/gtest.h>

#include <set>

#include "check/view_cache.hpp"
#include "program_cache_test.hpp"
#include "test_image.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

ImageView::LayerRead sample_read() {
  ImageView::LayerRead read;
  archive::TarEntry dir_entry;
  dir_entry.path = "etc";
  dir_entry.type = archive::EntryType::Directory;
  dir_entry.mode = 0755;
  archive::TarEntry file_entry;
  file_entry.path = "etc/os-release";
  file_entry.mode = 04755;
  file_entry.uid = 1000;
  file_entry.gid = 4294967294U;
  file_entry.uname = "user";
  file_entry.gname = "group";
  file_entry.mtime = -5;
  file_entry.size = 12;
  archive::TarEntry link_entry;
  link_entry.path = "etc/link";
  link_entry.type = archive::EntryType::Symlink;
  link_entry.link_target = "../usr/lib/os-release";
  archive::TarEntry device;
  device.path = "dev/null";
  device.type = archive::EntryType::CharDevice;
  device.dev_major = 1;
  device.dev_minor = 3;
  read.entries = {dir_entry, file_entry, link_entry, device};
  read.kept[1] = std::string("ID=debian\n\0x", 12);
  read.uncompressed = 10240;
  return read;
}

void expect_same(const ImageView::LayerRead& a, const ImageView::LayerRead& b) {
  ASSERT_EQ(a.entries.size(), b.entries.size());
  for (size_t i = 0; i < a.entries.size(); ++i) {
    const archive::TarEntry& x = a.entries[i];
    const archive::TarEntry& y = b.entries[i];
    EXPECT_EQ(std::tie(x.path, x.type, x.mode, x.uid, x.gid, x.uname, x.gname, x.mtime, x.size,
                       x.link_target, x.dev_major, x.dev_minor),
              std::tie(y.path, y.type, y.mode, y.uid, y.gid, y.uname, y.gname, y.mtime, y.size,
                       y.link_target, y.dev_major, y.dev_minor))
        << x.path;
  }
  EXPECT_EQ(a.kept, b.kept);
  EXPECT_EQ(a.uncompressed, b.uncompressed);
}

TEST(LayerReadRecord, EveryFieldSurvivesAndOtherBytesAreRefused) {
  const ImageView::LayerRead read = sample_read();
  const std::string bytes = encode_layer_read(read);
  auto decoded = decode_layer_read(bytes);
  ASSERT_TRUE(decoded.has_value());
  expect_same(*decoded, read);

  ImageView::LayerRead unmeasured = read;
  unmeasured.uncompressed.reset();
  unmeasured.kept.clear();
  auto decoded_unmeasured = decode_layer_read(encode_layer_read(unmeasured));
  ASSERT_TRUE(decoded_unmeasured.has_value());
  expect_same(*decoded_unmeasured, unmeasured);

  // Every shorter prefix, and a byte more, are not a record.
  for (size_t size = 0; size < bytes.size(); ++size) {
    EXPECT_FALSE(decode_layer_read(bytes.substr(0, size)).has_value()) << size;
  }
  EXPECT_FALSE(decode_layer_read(bytes + "x").has_value());
  std::string other_magic = bytes;
  other_magic[0] = 'D';
  EXPECT_FALSE(decode_layer_read(other_magic).has_value());

  // A kept file must be a regular file among the entries, and each once.
  ImageView::LayerRead kept_dir = read;
  kept_dir.kept = {{0, "a directory"}};
  EXPECT_FALSE(decode_layer_read(encode_layer_read(kept_dir)).has_value());
  ImageView::LayerRead kept_beyond = read;
  kept_beyond.kept = {{4, "no such entry"}};
  EXPECT_FALSE(decode_layer_read(encode_layer_read(kept_beyond)).has_value());
  // An entry type beyond the last one.
  ImageView::LayerRead odd_type = read;
  odd_type.entries[0].type = static_cast<archive::EntryType>(99);
  EXPECT_FALSE(decode_layer_read(encode_layer_read(odd_type)).has_value());
}

using ViewCacheTest = testing::ProgramCacheTest;

TEST_F(ViewCacheTest, EveryInputChangesTheKey) {
  const ViewCache cache(m_dir->path(), "sbom");
  const crypto::Digest blob = crypto::sha256("blob");
  const crypto::Digest diff_id = crypto::sha256("diff");
  std::set<std::string> keys{cache.key(blob, {})};
  EXPECT_EQ(cache.key(blob, {}), *keys.begin());
  keys.insert(cache.key(blob, diff_id));
  keys.insert(cache.key(crypto::sha256("other"), {}));
  keys.insert(ViewCache(m_dir->path(), "inspect").key(blob, {}));
  EXPECT_EQ(keys.size(), 4U);
  EXPECT_EQ(cache.key({}, diff_id), "");  // no blob digest, nothing kept
}

TEST_F(ViewCacheTest, KeptRecordsComeBackAndDamagedOnesAreDropped) {
  const ViewCache cache(m_dir->path(), "sbom");
  const std::string key = cache.key(crypto::sha256("blob"), {});
  EXPECT_FALSE(cache.lookup(key).has_value());
  ASSERT_TRUE(cache.store(key, sample_read()).ok());
  auto back = cache.lookup(key);
  ASSERT_TRUE(back.has_value());
  expect_same(*back, sample_read());

  // Sealed but not a record (another program's layout): dropped.
  const fs::path file = m_dir->path() / "views" / (key + ".bin");
  ASSERT_TRUE(fs::exists(file));
  auto text = util::read_file(file);
  ASSERT_TRUE(text.ok());
  (*text)[text->size() - 1] ^= 1;
  ASSERT_TRUE(util::write_file_atomic(file, *text).ok());
  EXPECT_FALSE(cache.lookup(key).has_value());
  EXPECT_FALSE(fs::exists(file));
  EXPECT_TRUE(cache.store("", sample_read()).ok());  // an empty key keeps nothing
  EXPECT_FALSE(cache.lookup("").has_value());
}

TEST_F(ViewCacheTest, AViewTakesTheLayersItHoldsWithoutTheirFiles) {
  const fs::path base = m_dir->path() / "base.tar.gz";
  const fs::path app = m_dir->path() / "app.tar.gz";
  const oci::LayerBlob base_blob =
      write_layer(base, {dir("etc"), file("etc/os-release", "ID=debian\n"), file("etc/big", "b"),
                         dir("app"), file("app/old", "replaced")});
  const oci::LayerBlob app_blob =
      write_layer(app, {file("app/old", "new"), file("app/server", "binary", 0755)});
  const std::vector<fs::path> files{base, app};
  const std::vector<crypto::Digest> blobs{base_blob.descriptor.digest, app_blob.descriptor.digest};
  const std::vector<crypto::Digest> diff_ids{base_blob.diff_id, app_blob.diff_id};
  const ViewCache cache(m_dir->path() / "cache", "test");
  auto keep = [](std::string_view tar_path) { return tar_path == "etc/os-release"; };
  std::set<std::pair<size_t, std::string>> scanned;
  std::mutex mutex;
  auto scan = [&](size_t layer, size_t, const archive::TarEntry& entry,
                  archive::ContentReader&) -> Status {
    std::lock_guard<std::mutex> lock(mutex);
    scanned.emplace(layer, entry.path);
    return {};
  };

  // The first load reads both layers and keeps both.
  auto first = ImageView::load(files, "first", keep, diff_ids, scan, cache.recall(blobs, diff_ids));
  ASSERT_TRUE(first.ok()) << first.error().message;
  EXPECT_EQ(scanned.size(), 5U);
  EXPECT_TRUE(cache.lookup(cache.key(blobs[0], diff_ids[0])).has_value());
  EXPECT_TRUE(cache.lookup(cache.key(blobs[1], diff_ids[1])).has_value());

  // The base layer's file gone: the second load takes it from the cache, with
  // its kept file and its measured size, and reads (and scans) the layer it
  // must read.
  const uint64_t base_size = *first->uncompressed_size(0);
  fs::remove(base);
  scanned.clear();
  auto second = ImageView::load(files, "second", keep, diff_ids, scan,
                                cache.recall(blobs, diff_ids, {false, true}));
  ASSERT_TRUE(second.ok()) << second.error().message;
  EXPECT_EQ(scanned, (std::set<std::pair<size_t, std::string>>{{1, "app/old"}, {1, "app/server"}}));
  ASSERT_EQ(second->files().size(), first->files().size());
  for (const auto& [path, info] : first->files()) {
    const FileInfo* other = second->lstat(path);
    ASSERT_NE(other, nullptr) << path;
    EXPECT_EQ(std::tie(info.type, info.mode, info.size, info.layer, info.entry, info.tar_path),
              std::tie(other->type, other->mode, other->size, other->layer, other->entry,
                       other->tar_path))
        << path;
  }
  EXPECT_EQ(second->uncompressed_size(0), base_size);
  auto os_release = second->read_file("/etc/os-release");
  ASSERT_TRUE(os_release.ok()) << os_release.error().message;
  EXPECT_EQ(*os_release, "ID=debian\n");
  auto replaced = second->read_file("/app/old");
  ASSERT_TRUE(replaced.ok()) << replaced.error().message;
  EXPECT_EQ(*replaced, "new");
  // Not kept, so read from the layer file, which is gone: an error, not a guess.
  EXPECT_FALSE(second->read_file("/etc/big").ok());

  // Checked against other diff_ids, the layer is another entry: read, so an
  // error now that its file is gone.
  std::vector<crypto::Digest> other_ids{crypto::sha256("x"), app_blob.diff_id};
  auto other = ImageView::load(files, "third", keep, other_ids, {}, cache.recall(blobs, other_ids));
  EXPECT_FALSE(other.ok());
}

}  // namespace
}  // namespace distill::check
