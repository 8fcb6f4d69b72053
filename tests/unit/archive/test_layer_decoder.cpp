// Unit tests for LayerDecoder and for_each_tar_entry_verified: every codec a
// layer comes in gives the bytes decompress() gives, the uncompressed tar is
// checked against the diff_id in the pass that reads it (padding after the
// tar's end and what a Stop leaves included), and damage is Corrupt.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "../support/gzip_data.hpp"
#include "../support/xz_data.hpp"
#include "archive/byte_sink.hpp"
#include "archive/compressor.hpp"
#include "archive/decompress.hpp"
#include "archive/layer_decoder.hpp"
#include "archive/tar_reader.hpp"
#include "archive/tar_writer.hpp"
#include "test_support.hpp"
#include "util/file_io.hpp"

namespace distill::archive {
namespace {

using testing::scratch;

// A tar of a few small files and one of `big` bytes that no block repeats,
// ending with the two zero blocks and nothing after them.
std::string layer_tar(size_t big = (size_t{5} << 20) + 333) {
  std::string tar;
  StringSink sink(tar);
  TarWriter writer(sink);
  auto add = [&](std::string path, const std::string& content) {
    TarEntry entry;
    entry.path = std::move(path);
    entry.mode = 0644;
    entry.size = content.size();
    MemoryContentReader reader(content);
    EXPECT_TRUE(writer.add(entry, &reader).ok());
  };
  add("etc/hostname", "layer\n");
  std::string bytes(big, '\0');
  uint32_t x = 2463534242U;
  for (size_t i = 0; i < bytes.size(); ++i) {
    // Half noise, half text: neither stored whole nor squeezed to nothing.
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    bytes[i] = (i / 4096) % 2 == 0 ? static_cast<char>(x) : static_cast<char>('a' + (i % 7));
  }
  add("usr/lib/big.so", bytes);
  add("usr/share/doc/x/copyright", "none\n");
  EXPECT_TRUE(writer.finish().ok());
  return tar;
}

std::string compressed(const std::string& tar, Compression compression) {
  std::string out;
  StringSink sink(out);
  auto compressor = make_compressor(compression, sink, 1);
  EXPECT_TRUE(compressor->write(tar).ok());
  EXPECT_TRUE(compressor->finish().ok());
  return out;
}

std::string one_gzip_member(const std::string& data) { return test::gzip_of(data); }

// What for_each_tar_entry_verified() read: path -> content.
struct Read {
  Result<uint64_t> size = uint64_t{0};
  std::map<std::string, std::string> files;
};

Read read_verified(const std::filesystem::path& file, const crypto::Digest& diff_id) {
  Read read;
  read.size = for_each_tar_entry_verified(
      file, diff_id,
      [&](const TarEntry& entry, ContentReader& content) -> Status {
        DISTILL_TRY(read.files[entry.path], content.read_all());
        return {};
      },
      "layer 2 of oci:x:y");
  return read;
}

class LayerDecoderTest : public ::testing::Test {
 protected:
  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    auto path = m_dir.path() / name;
    EXPECT_TRUE(util::write_file_atomic(path, bytes).ok());
    return path;
  }

  // Every piece of the decoder, joined.
  static Result<std::string> decode_all(const std::filesystem::path& file) {
    DISTILL_TRY(auto decoder, LayerDecoder::open(file, "t"));
    std::string out;
    for (;;) {
      DISTILL_TRY(std::string_view piece, decoder->next());
      if (piece.empty()) {
        break;
      }
      EXPECT_LE(piece.size(), k_gzip_chunk_size);
      out += piece;
    }
    EXPECT_EQ(decoder->size(), out.size());
    EXPECT_EQ(decoder->digest(), crypto::sha256(out));
    return out;
  }

  util::TempDir m_dir = scratch();
  const std::string m_tar = layer_tar();
  const crypto::Digest m_diff_id = crypto::sha256(m_tar);
};

TEST_F(LayerDecoderTest, EveryCodecGivesTheTarAndItsDigest) {
  const std::map<std::string, std::string> blobs{
      {"plain", m_tar},
      {"gzip members", compressed(m_tar, Compression::Gzip)},
      {"one gzip member", one_gzip_member(m_tar)},
      {"zstd", compressed(m_tar, Compression::Zstd)},
      {"xz", test::xz_of(m_tar, 1)},
  };
  for (const auto& [name, blob] : blobs) {
    SCOPED_TRACE(name);
    auto file = write("blob", blob);
    auto decoded = decode_all(file);
    ASSERT_TRUE(decoded.ok()) << decoded.error().message;
    EXPECT_TRUE(*decoded == m_tar);
    auto digest = uncompressed_digest(file);  // the same decoder: the same bytes
    ASSERT_TRUE(digest.ok()) << digest.error().message;
    EXPECT_EQ(digest->digest, m_diff_id);
    EXPECT_EQ(digest->size, m_tar.size());

    Read read = read_verified(file, m_diff_id);
    ASSERT_TRUE(read.size.ok()) << read.size.error().message;
    EXPECT_EQ(*read.size, m_tar.size());
    ASSERT_EQ(read.files.size(), 3U);
    EXPECT_EQ(read.files["etc/hostname"], "layer\n");
    EXPECT_EQ(read.files["usr/lib/big.so"].size(), (size_t{5} << 20) + 333);
    EXPECT_EQ(read.files["usr/share/doc/x/copyright"], "none\n");
  }
}

TEST_F(LayerDecoderTest, ADifferentTarIsCorruptNamingBothDigests) {
  const std::string other = layer_tar(1000);
  const crypto::Digest other_id = crypto::sha256(other);
  for (Compression compression : {Compression::None, Compression::Gzip, Compression::Zstd}) {
    SCOPED_TRACE(to_string(compression));
    auto file =
        write("blob", compression == Compression::None ? other : compressed(other, compression));
    Read read = read_verified(file, m_diff_id);
    ASSERT_FALSE(read.size.ok());
    EXPECT_EQ(read.size.error().kind, ErrorKind::Corrupt);
    EXPECT_EQ(read.size.error().message, "layer 2 of oci:x:y: uncompressed content has " +
                                             other_id.str() + ", the config says " +
                                             m_diff_id.str());
    // The entries were all read on the way: the check is in the same pass.
    EXPECT_EQ(read.files.size(), 3U);
    EXPECT_TRUE(read_verified(file, other_id).size.ok());
  }
}

TEST_F(LayerDecoderTest, PaddingAfterTheTarsEndIsPartOfTheDigest) {
  // GNU tar pads to a 10 KiB record: the diff_id is of the padded stream.
  std::string padded = m_tar + std::string(10240 - m_tar.size() % 10240, '\0');
  for (Compression compression : {Compression::None, Compression::Gzip, Compression::Zstd}) {
    SCOPED_TRACE(to_string(compression));
    auto file =
        write("blob", compression == Compression::None ? padded : compressed(padded, compression));
    Read read = read_verified(file, crypto::sha256(padded));
    ASSERT_TRUE(read.size.ok()) << read.size.error().message;
    EXPECT_EQ(*read.size, padded.size());
    Read unpadded = read_verified(file, m_diff_id);
    ASSERT_FALSE(unpadded.size.ok());
    EXPECT_NE(unpadded.size.error().message.find("uncompressed content has " +
                                                 crypto::sha256(padded).str()),
              std::string::npos);
  }
}

TEST_F(LayerDecoderTest, AReaderThatStopsEarlyStillChecksTheWholeStream) {
  auto file = write("blob", compressed(m_tar, Compression::Gzip));
  for (const auto& [diff_id, ok] : std::vector<std::pair<crypto::Digest, bool>>{
           {m_diff_id, true}, {crypto::sha256("x"), false}}) {
    size_t seen = 0;
    auto size = for_each_tar_entry_verified(
        file, diff_id,
        [&](const TarEntry&, ContentReader&) -> Result<TarNext> {
          ++seen;
          return TarNext::Stop;
        },
        "t");
    EXPECT_EQ(seen, 1U);
    EXPECT_EQ(size.ok(), ok);
    if (size.ok()) {
      EXPECT_EQ(*size, m_tar.size());
    }
  }
}

TEST_F(LayerDecoderTest, AFileCheckedOnceIsTakenAtItsWordOnlyWhileItIsUnchanged) {
  auto file = write("blob", compressed(m_tar, Compression::Gzip));
  ASSERT_TRUE(read_verified(file, m_diff_id).size.ok());
  Read again = read_verified(file, m_diff_id);  // not hashed: the same file, checked
  ASSERT_TRUE(again.size.ok()) << again.size.error().message;
  EXPECT_EQ(*again.size, m_tar.size());
  EXPECT_EQ(again.files.size(), 3U);
  // Another claim about the same file is checked anew.
  EXPECT_FALSE(read_verified(file, crypto::sha256("x")).size.ok());
  // Other bytes under the same name are another file.
  const std::string other = layer_tar(1000);
  write("blob", compressed(other, Compression::Gzip));
  Read changed = read_verified(file, m_diff_id);
  ASSERT_FALSE(changed.size.ok());
  EXPECT_NE(
      changed.size.error().message.find("uncompressed content has " + crypto::sha256(other).str()),
      std::string::npos);
}

TEST_F(LayerDecoderTest, TheCallbacksErrorComesBackAsItIs) {
  auto file = write("blob", compressed(m_tar, Compression::Gzip));
  auto size = for_each_tar_entry_verified(
      file, crypto::sha256("x"),
      [&](const TarEntry&, ContentReader&) -> Status {
        return make_error(ErrorKind::Io, "disk full");
      },
      "t");
  ASSERT_FALSE(size.ok());
  EXPECT_EQ(size.error().kind, ErrorKind::Io);
  EXPECT_EQ(size.error().message, "disk full");
}

TEST_F(LayerDecoderTest, ATruncatedStreamIsCorrupt) {
  const std::map<std::string, std::string> blobs{
      {"gzip members", compressed(m_tar, Compression::Gzip)},
      {"one gzip member", one_gzip_member(m_tar)},
      {"zstd", compressed(m_tar, Compression::Zstd)},
  };
  for (const auto& [name, blob] : blobs) {
    for (size_t keep : {blob.size() / 3, blob.size() - 5}) {
      SCOPED_TRACE(name + " cut to " + std::to_string(keep));
      auto file = write("blob", blob.substr(0, keep));
      EXPECT_FALSE(decode_all(file).ok());
      EXPECT_FALSE(uncompressed_digest(file).ok());
      Read read = read_verified(file, m_diff_id);
      ASSERT_FALSE(read.size.ok());
      EXPECT_EQ(read.size.error().kind, ErrorKind::Corrupt) << read.size.error().message;
      EXPECT_EQ(read.size.error().message.find("uncompressed content has"), std::string::npos)
          << read.size.error().message;
      EXPECT_EQ(read.size.error().message.rfind("layer 2 of oci:x:y: ", 0), 0U)
          << read.size.error().message;
    }
  }
  // A plain tar cut short: libarchive says so, before any digest.
  auto file = write("blob", m_tar.substr(0, m_tar.size() / 2));
  Read read = read_verified(file, m_diff_id);
  ASSERT_FALSE(read.size.ok());
  EXPECT_EQ(read.size.error().kind, ErrorKind::Corrupt);
}

TEST_F(LayerDecoderTest, DamageInsideAGzipMemberIsCorrupt) {
  std::string blob = compressed(m_tar, Compression::Gzip);
  blob[blob.size() / 2] = static_cast<char>(blob[blob.size() / 2] ^ 0x55);
  auto file = write("blob", blob);
  Read read = read_verified(file, m_diff_id);
  ASSERT_FALSE(read.size.ok());
  EXPECT_EQ(read.size.error().kind, ErrorKind::Corrupt);
}

TEST_F(LayerDecoderTest, BytesAfterTheLastGzipMemberEndTheStreamAsLibarchiveReadsIt) {
  auto file = write("blob", compressed(m_tar, Compression::Gzip) + "trailing bytes");
  auto decoded = decode_all(file);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(*decoded == m_tar);
  auto libarchive = decompress(*util::read_file(file), "t");
  ASSERT_TRUE(libarchive.ok());
  EXPECT_TRUE(*libarchive == m_tar);
}

TEST_F(LayerDecoderTest, AGzipHeaderOfAnotherMethodIsCorrupt) {
  std::string blob = compressed(m_tar, Compression::Gzip);
  blob[2] = 7;  // CM: not deflate
  auto file = write("blob", blob);
  auto decoded = decode_all(file);
  ASSERT_FALSE(decoded.ok());
  EXPECT_EQ(decoded.error().kind, ErrorKind::Corrupt);
  EXPECT_EQ(decoded.error().message, "t: gzip: not a deflate stream");
}

TEST_F(LayerDecoderTest, AnEmptyGzipMemberAmongOthersGivesNothing) {
  auto file = write(
      "blob", one_gzip_member("") + compressed(m_tar, Compression::Gzip) + one_gzip_member(""));
  auto decoded = decode_all(file);
  ASSERT_TRUE(decoded.ok()) << decoded.error().message;
  EXPECT_TRUE(*decoded == m_tar);
}

TEST_F(LayerDecoderTest, AMissingFileNamesItsOrigin) {
  auto decoder = LayerDecoder::open(m_dir.path() / "absent", "layer 0 of oci:x:y");
  ASSERT_FALSE(decoder.ok());
  EXPECT_NE(decoder.error().message.find("layer 0 of oci:x:y"), std::string::npos);
}

}  // namespace
}  // namespace distill::archive
