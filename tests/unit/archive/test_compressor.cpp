// Unit tests for the layer compressors (determinism across thread counts and
// write patterns, interoperability with gzip/zstd/python) and decompress().
#include <gtest/gtest.h>

#include <future>
#include <mutex>
#include <random>
#include <thread>
#include <vector>

#include "../support/python.hpp"
#include "archive/compressor.hpp"
#include "archive/decompress.hpp"
#include "test_support.hpp"
#include "util/worker_pool.hpp"

namespace distill::archive {
namespace {

using testing::have;
using testing::run_ok;
using testing::scratch;

// Compressible but not trivial: words from a small vocabulary plus noise.
std::string sample(size_t size, unsigned seed = 1) {
  std::mt19937 rng(seed);
  static const char* k_words[] = {"usr", "lib", "x86_64", "linux", "gnu", "so", "\n", "\0\0\0"};
  std::string out;
  out.reserve(size + 16);
  while (out.size() < size) {
    if (rng() % 5 == 0) {
      out += static_cast<char>(rng());
    } else {
      out += k_words[rng() % 8];
    }
  }
  out.resize(size);
  return out;
}

// Compresses `input` written in pieces of `piece` bytes.
std::string compress(Compression c, std::string_view input, unsigned threads, size_t piece,
                     int level = -1) {
  std::string out;
  StringSink sink(out);
  auto compressor = make_compressor(c, sink, threads, level);
  for (size_t pos = 0; pos < input.size(); pos += piece) {
    EXPECT_TRUE(compressor->write(input.substr(pos, piece)).ok());
  }
  EXPECT_TRUE(compressor->finish().ok());
  EXPECT_TRUE(compressor->finish().ok());  // idempotent
  return out;
}

TEST(Compression, ParseAndMediaTypes) {
  EXPECT_EQ(*parse_compression("gzip"), Compression::Gzip);
  EXPECT_EQ(*parse_compression("zstd"), Compression::Zstd);
  EXPECT_EQ(*parse_compression("none"), Compression::None);
  auto bad = parse_compression("lz4");
  ASSERT_FALSE(bad.ok());
  EXPECT_EQ(bad.error().kind, ErrorKind::InvalidInput);
  EXPECT_EQ(layer_media_type(Compression::None), "application/vnd.oci.image.layer.v1.tar");
  EXPECT_EQ(layer_media_type(Compression::Gzip), "application/vnd.oci.image.layer.v1.tar+gzip");
  EXPECT_EQ(layer_media_type(Compression::Zstd), "application/vnd.oci.image.layer.v1.tar+zstd");
}

TEST(GzipCompressor, IdenticalForAnyThreadCountAndWritePattern) {
  std::string input = sample(5 * k_gzip_chunk_size + 12345);
  std::string one = compress(Compression::Gzip, input, 1, 1 << 20);
  EXPECT_EQ(compress(Compression::Gzip, input, 4, 1 << 20), one);
  EXPECT_EQ(compress(Compression::Gzip, input, 2, 4097), one);
  EXPECT_EQ(compress(Compression::Gzip, input, 3, 10 << 20), one);
  EXPECT_LT(one.size(), input.size());
  // Member header: no name, mtime 0, XFL 0, OS 255.
  EXPECT_EQ(one.substr(0, 10), std::string("\x1f\x8b\x08\0\0\0\0\0\0\xff", 10));
  auto round = decompress(one, "layer.gz");
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_TRUE(*round == input);
}

// A downstream that takes `allowed` writes, then fails every other one.
class FailingSink final : public ByteSink {
 public:
  explicit FailingSink(int allowed) : m_allowed(allowed) {}
  Status write(const void*, size_t) override {
    if (m_allowed-- > 0) {
      return {};
    }
    return make_error(ErrorKind::Io, "disk full");
  }
  using ByteSink::write;
  Status finish() override { return {}; }

 private:
  int m_allowed;
};

TEST(GzipCompressor, ADownstreamErrorStopsTheStreamAndAnAbandonedOneEndsCleanly) {
  std::string input = sample(12 * k_gzip_chunk_size);
  FailingSink failing(2);
  auto compressor = make_compressor(Compression::Gzip, failing, 2);
  Status status;
  for (size_t pos = 0; pos < input.size() && status.ok(); pos += k_gzip_chunk_size) {
    status = compressor->write(std::string_view(input).substr(pos, k_gzip_chunk_size));
  }
  if (status.ok()) {
    status = compressor->finish();
  }
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().message, "disk full");

  // Destroyed with chunks still queued and being compressed: no hang, and
  // what reached downstream is whole members, in order.
  std::string full = compress(Compression::Gzip, input, 1, 1 << 20);
  std::string out;
  {
    StringSink sink(out);
    auto abandoned = make_compressor(Compression::Gzip, sink, 4);
    ASSERT_TRUE(abandoned->write(input).ok());
  }
  EXPECT_EQ(out, full.substr(0, out.size()));
}

// The tap sees every input byte, in order, once finish() returns, whatever
// the compressor and its thread count; the output is the same as without it.
TEST(Compressor, TheTapSeesTheInputInOrder) {
  const std::string input = sample(6 * k_gzip_chunk_size + 777, 3);
  for (Compression c : {Compression::Gzip, Compression::Zstd, Compression::None}) {
    for (unsigned threads : {1U, 2U, 4U}) {
      std::string out;
      std::string tapped;
      StringSink sink(out);
      StringSink tap(tapped);
      auto compressor = make_compressor(c, sink, threads, -1, &tap);
      for (size_t pos = 0; pos < input.size(); pos += 300000) {
        ASSERT_TRUE(compressor->write(std::string_view(input).substr(pos, 300000)).ok());
      }
      ASSERT_TRUE(compressor->finish().ok());
      EXPECT_TRUE(tapped == input) << to_string(c) << " on " << threads << " threads";
      EXPECT_EQ(out, compress(c, input, 1, 1 << 20)) << to_string(c);
    }
  }
  // An empty stream: nothing tapped, one empty member.
  std::string out;
  std::string tapped;
  StringSink sink(out);
  StringSink tap(tapped);
  auto empty = make_compressor(Compression::Gzip, sink, 4, -1, &tap);
  ASSERT_TRUE(empty->finish().ok());
  EXPECT_TRUE(tapped.empty());
  EXPECT_EQ(out, compress(Compression::Gzip, "", 1, 1));
}

TEST(Compressor, AFailingTapFailsTheStream) {
  const std::string input = sample(8 * k_gzip_chunk_size, 4);
  for (unsigned threads : {1U, 4U}) {
    std::string out;
    StringSink sink(out);
    FailingSink tap(3);
    auto compressor = make_compressor(Compression::Gzip, sink, threads, -1, &tap);
    Status status;
    for (size_t pos = 0; pos < input.size() && status.ok(); pos += k_gzip_chunk_size) {
      status = compressor->write(std::string_view(input).substr(pos, k_gzip_chunk_size));
    }
    if (status.ok()) {
      status = compressor->finish();
    }
    ASSERT_FALSE(status.ok()) << threads << " threads";
    EXPECT_EQ(status.error().message, "disk full");
    // The members written are those of the chunks tapped before the failure.
    std::string full = compress(Compression::Gzip, input, 1, 1 << 20);
    EXPECT_EQ(out, full.substr(0, out.size()));
  }
}

// Streams whose chunks a shared pool compresses, each produced on a thread of
// that pool (as the build's layers are): the bytes of a stream on one thread,
// whatever ran beside it; a failing one fails alone; none waits for a thread
// of its own.
TEST(GzipCompressor, StreamsSharingAPoolGiveTheirOwnBytes) {
  util::WorkerPool pool(2);
  constexpr size_t k_streams = 5;
  std::vector<std::string> inputs;
  std::vector<std::string> expected;
  for (size_t i = 0; i < k_streams; ++i) {
    inputs.push_back(sample((i + 1) * k_gzip_chunk_size + 1000 * i, static_cast<unsigned>(10 + i)));
    expected.push_back(compress(Compression::Gzip, inputs.back(), 1, 1 << 20));
  }
  std::vector<std::string> outputs(k_streams);
  std::vector<std::string> tapped(k_streams);
  std::vector<Status> results(k_streams);
  Status failed_result;
  {
    util::TaskGroup group(pool);
    for (size_t i = 0; i < k_streams; ++i) {
      group.submit([&, i] {
        StringSink sink(outputs[i]);
        StringSink tap(tapped[i]);
        auto compressor = make_compressor(Compression::Gzip, sink, 2, -1, &tap, &pool);
        for (size_t pos = 0; pos < inputs[i].size(); pos += 200000) {
          if (Status s = compressor->write(std::string_view(inputs[i]).substr(pos, 200000));
              !s.ok()) {
            results[i] = s;
            return;
          }
        }
        results[i] = compressor->finish();
      });
    }
    group.submit([&] {
      FailingSink failing(1);
      auto compressor = make_compressor(Compression::Gzip, failing, 2, -1, nullptr, &pool);
      std::string input = sample(9 * k_gzip_chunk_size, 99);
      Status status = compressor->write(input);
      failed_result = status.ok() ? compressor->finish() : status;
    });
    group.submit([&] {
      // Abandoned with chunks queued: the pool's jobs for it find nothing.
      std::string out;
      StringSink sink(out);
      auto abandoned = make_compressor(Compression::Gzip, sink, 2, -1, nullptr, &pool);
      EXPECT_TRUE(abandoned->write(sample(6 * k_gzip_chunk_size, 7)).ok());
    });
    group.wait();
  }
  for (size_t i = 0; i < k_streams; ++i) {
    ASSERT_TRUE(results[i].ok()) << results[i].error().message;
    EXPECT_EQ(outputs[i], expected[i]) << "stream " << i;
    EXPECT_TRUE(tapped[i] == inputs[i]) << "stream " << i;
  }
  ASSERT_FALSE(failed_result.ok());
  EXPECT_EQ(failed_result.error().message, "disk full");
}

// A stream of one thread given the pool (a layer that does not bound the
// build) runs one job offered to the pool after each chunk it compresses,
// on its own thread, while the pool's threads are busy; its bytes are those
// of a stream without the pool.
TEST(GzipCompressor, AOneThreadStreamRunsAnOfferedJobAfterEachChunk) {
  util::WorkerPool pool(1);
  std::promise<void> release;
  std::shared_future<void> released = release.get_future().share();
  std::promise<void> busy;
  pool.submit([&busy, released] {
    busy.set_value();
    released.wait();  // the pool's one thread is busy until the end
  });
  busy.get_future().wait();
  std::mutex mutex;
  std::vector<std::thread::id> ran;
  for (int i = 0; i < 3; ++i) {
    pool.offer([&] {
      std::lock_guard lock(mutex);
      ran.push_back(std::this_thread::get_id());
    });
  }
  const std::string input = sample(2 * k_gzip_chunk_size + 5000, 21);
  std::string out;
  StringSink sink(out);
  auto compressor = make_compressor(Compression::Gzip, sink, 1, -1, nullptr, &pool);
  ASSERT_TRUE(compressor->write(std::string_view(input).substr(0, k_gzip_chunk_size + 10)).ok());
  {
    std::lock_guard lock(mutex);
    EXPECT_EQ(ran.size(), 1U) << "one job after the first chunk";
  }
  ASSERT_TRUE(compressor->write(std::string_view(input).substr(k_gzip_chunk_size + 10)).ok());
  ASSERT_TRUE(compressor->finish().ok());
  {
    std::lock_guard lock(mutex);
    ASSERT_EQ(ran.size(), 3U) << "one after each of the three chunks";
    for (const auto& id : ran) {
      EXPECT_EQ(id, std::this_thread::get_id());
    }
  }
  EXPECT_EQ(out, compress(Compression::Gzip, input, 1, 1 << 20));
  EXPECT_FALSE(pool.help()) << "no job left";
  release.set_value();
}

TEST(GzipCompressor, GnuGzipAndPythonReadTheMultiMemberStream) {
  if (!have("gzip") || !have("python3")) {
    GTEST_SKIP() << "gzip or python3 missing";
  }
  auto dir = scratch();
  std::string input = sample(3 * k_gzip_chunk_size + 99, 7);
  auto path = dir.path() / "x.gz";
  ASSERT_TRUE(util::write_file_atomic(path, compress(Compression::Gzip, input, 4, 65536)).ok());
  run_ok({"gzip", "-t", path.string()});
  EXPECT_TRUE(run_ok({"gzip", "-dc", path.string()}) == input);
  std::string py = run_ok({test::system_python().string(), "-c",
                           "import gzip, hashlib, sys\n"
                           "print(hashlib.sha256(gzip.open(sys.argv[1]).read()).hexdigest())",
                           path.string()});
  EXPECT_EQ(py, crypto::sha256(input).hex() + "\n");
}

TEST(GzipCompressor, EmptyInputIsOneValidMember) {
  std::string out = compress(Compression::Gzip, "", 4, 1);
  EXPECT_EQ(out, compress(Compression::Gzip, "", 1, 1));
  auto round = decompress(out, "empty.gz");
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_TRUE(round->empty());
  if (have("gzip")) {
    EXPECT_EQ(run_ok({"gzip", "-dc"}, out), "");
  }
}

TEST(GzipCompressor, LevelChangesOutputButNotContent) {
  std::string input = sample(300000, 3);
  std::string fast = compress(Compression::Gzip, input, 1, 8192, 1);
  std::string best = compress(Compression::Gzip, input, 2, 8192, 9);
  EXPECT_NE(fast, best);
  EXPECT_TRUE(*decompress(fast, "f") == input);
  EXPECT_TRUE(*decompress(best, "b") == input);
}

TEST(GzipCompressor, SameBytesAfterTheKeptCompressorsAreReleased) {
  std::string input = sample(3 << 20, 5);  // several chunks
  std::string before = compress(Compression::Gzip, input, 2, 65536);
  release_kept_compressors();
  EXPECT_EQ(compress(Compression::Gzip, input, 2, 65536), before);
  release_kept_compressors();
  EXPECT_EQ(compress(Compression::Gzip, input, 1, 4096), before);
}

TEST(ZstdCompressor, DeterministicAcrossWritePatternsAndReadableByZstd) {
  std::string input = sample(2 * 1024 * 1024 + 5, 11);
  std::string a = compress(Compression::Zstd, input, 1, 1 << 20);
  EXPECT_EQ(compress(Compression::Zstd, input, 8, 333), a);
  EXPECT_EQ(a.substr(0, 4), "\x28\xb5\x2f\xfd");
  auto round = decompress(a, "layer.zst");
  ASSERT_TRUE(round.ok()) << round.error().message;
  EXPECT_TRUE(*round == input);
  if (have("zstd")) {
    EXPECT_TRUE(run_ok({"zstd", "-dc"}, a) == input);
  }
}

// Random bytes are stored (a chunk costs a few bytes of block headers), text
// next to them is still compressed, and the output reads back and does not
// depend on the thread count.
TEST(GzipCompression, IncompressibleChunksAreStored) {
  std::mt19937 rng(7);
  std::string noise(2 * k_gzip_chunk_size, '\0');
  for (char& c : noise) {
    c = static_cast<char>(rng());
  }
  std::string text = sample(k_gzip_chunk_size, 3);
  std::string input = noise + text;
  std::string one = compress(Compression::Gzip, input, 1, 65536);
  EXPECT_EQ(compress(Compression::Gzip, input, 4, 65536), one);
  std::string stored_part = compress(Compression::Gzip, noise, 1, 65536);
  EXPECT_LT(stored_part.size(), noise.size() + 1024);  // stored: size + headers
  EXPECT_GT(stored_part.size(), noise.size());
  std::string text_part = compress(Compression::Gzip, text, 1, 65536);
  EXPECT_LT(text_part.size(), text.size() / 2);
  auto back = decompress(one, "mixed.gz");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == input);
}

// Bytes spread evenly over all 256 values are not taken as incompressible
// for that alone: a random 4 KiB block repeated is still compressed.
TEST(GzipCompression, EvenlySpreadBytesThatRepeatAreCompressed) {
  std::mt19937 rng(11);
  std::string block(4096, '\0');
  for (char& c : block) {
    c = static_cast<char>(rng());
  }
  std::string input;
  while (input.size() < 2 * k_gzip_chunk_size) {
    input += block;
  }
  std::string gz = compress(Compression::Gzip, input, 1, 65536);
  EXPECT_LT(gz.size(), input.size() / 20);
  auto back = decompress(gz, "repeated.gz");
  ASSERT_TRUE(back.ok()) << back.error().message;
  EXPECT_TRUE(*back == input);
}

// The chunked gzip read back member by member: each member is one chunk, its
// bytes as the compressor wrote them.
TEST(GzipMemberReader, GivesEachChunkAndItsMember) {
  std::string input = sample(2 * k_gzip_chunk_size + 12345, 7);
  std::string gz = compress(Compression::Gzip, input, 2, 100000);
  GzipMemberReader reader(gz, k_gzip_chunk_size, "test.gz");
  std::string content;
  std::string members;
  size_t count = 0;
  for (;;) {
    auto more = reader.next();
    ASSERT_TRUE(more.ok()) << more.error().message;
    if (!*more) {
      break;
    }
    EXPECT_EQ(reader.offset(), content.size());
    EXPECT_EQ(compress(Compression::Gzip, reader.content(), 1, k_gzip_chunk_size),
              std::string(reader.member()));
    content += reader.content();
    members += reader.member();
    ++count;
  }
  EXPECT_EQ(count, 3u);
  EXPECT_EQ(content, input);
  EXPECT_EQ(members, gz);
}

TEST(GzipMemberReader, ABigMemberOrGarbageIsCorrupt) {
  std::string gz = compress(Compression::Gzip, sample(5000), 1, 5000);
  GzipMemberReader small(gz, 4096, "small.gz");
  auto r = small.next();
  ASSERT_FALSE(r.ok());
  EXPECT_EQ(r.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(r.error().message.find("small.gz"), std::string::npos);

  std::string trailing = gz + "garbage";
  GzipMemberReader reader(trailing, k_gzip_chunk_size, "t.gz");
  auto first = reader.next();
  ASSERT_TRUE(first.ok() && *first);
  auto second = reader.next();
  ASSERT_FALSE(second.ok());
  EXPECT_EQ(second.error().kind, ErrorKind::Corrupt);
}

TEST(NoCompression, PassesBytesThrough) {
  EXPECT_EQ(compress(Compression::None, "hello world", 4, 3), "hello world");
}

TEST(Decompress, XzGzipBzip2ZstdAndPlain) {
  std::string input = sample(200000, 5);
  for (const char* tool : {"xz", "gzip", "bzip2", "zstd"}) {
    if (!have(tool)) {
      continue;
    }
    std::string packed = run_ok({tool, "-c"}, input);
    ASSERT_FALSE(packed.empty()) << tool;
    auto out = decompress(packed, std::string("Packages.") + tool);
    ASSERT_TRUE(out.ok()) << tool << ": " << out.error().message;
    EXPECT_TRUE(*out == input) << tool;
  }
  EXPECT_EQ(*decompress("Package: a\n", "Packages"), "Package: a\n");
  EXPECT_EQ(*decompress("", "Packages"), "");
  EXPECT_EQ(detect_codec("\xfd"
                         "7zXZ"),
            Codec::Plain);  // too short for the magic
  EXPECT_EQ(detect_codec(std::string("\xfd"
                                     "7zXZ\0\0",
                                     7)),
            Codec::Xz);
}

TEST(Decompress, TruncatedInputIsCorruptNamingOrigin) {
  if (!have("xz")) {
    GTEST_SKIP() << "xz missing";
  }
  std::string packed = run_ok({"xz", "-c"}, sample(100000, 9));
  packed.resize(packed.size() / 2);
  auto out = decompress(packed, "http://mirror.invalid/Packages.xz");
  ASSERT_FALSE(out.ok());
  EXPECT_EQ(out.error().kind, ErrorKind::Corrupt);
  EXPECT_NE(out.error().message.find("http://mirror.invalid/Packages.xz"), std::string::npos);
}

// gzip held in memory: one member goes through libdeflate in one call; several
// members (as the layer compressor writes) and a trailer whose size lies take
// the streaming path (no allocation sized by the trailer), with the same bytes.
TEST(Decompress, GzipMembersAndLyingTrailer) {
  std::string input = sample(3 * k_gzip_chunk_size + 12345, 21);
  std::string multi = compress(Compression::Gzip, input, 2, 6);
  auto out = decompress(multi, "layer.tar.gz");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(*out == input);
  if (!have("gzip")) {
    GTEST_SKIP() << "gzip missing";
  }
  std::string single = run_ok({"gzip", "-c"}, input);
  out = decompress(single, "Packages.gz");
  ASSERT_TRUE(out.ok()) << out.error().message;
  EXPECT_TRUE(*out == input);
  for (char byte : {'\x01', '\xff'}) {
    std::string lying = single;
    lying[lying.size() - 1] = byte;  // ISIZE's top byte: 16 MiB or 4 GiB off
    out = decompress(lying, "Packages.gz");
    ASSERT_TRUE(out.ok()) << out.error().message;
    EXPECT_TRUE(*out == input);
  }
}

TEST(Decompress, FileVariantStreamsToASink) {
  if (!have("gzip")) {
    GTEST_SKIP() << "gzip missing";
  }
  auto dir = scratch();
  std::string input = sample(500000, 13);
  auto path = dir.path() / "Packages.gz";
  ASSERT_TRUE(util::write_file_atomic(path, run_ok({"gzip", "-c"}, input)).ok());
  HashingSink hash;
  ASSERT_TRUE(decompress_file(path, hash).ok());
  EXPECT_EQ(hash.size(), input.size());
  EXPECT_EQ(hash.digest(), crypto::sha256(input));
}

TEST(HashingSink, HashesAndForwards) {
  std::string out;
  StringSink str(out);
  HashingSink hash(&str);
  ASSERT_TRUE(hash.write("abc").ok());
  ASSERT_TRUE(hash.finish().ok());
  EXPECT_EQ(out, "abc");
  EXPECT_EQ(hash.size(), 3U);
  EXPECT_EQ(hash.digest().hex(),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
  EXPECT_FALSE(hash.write("more").ok());
}

TEST(FileSink, BuffersAndWritesEverything) {
  auto dir = scratch();
  auto file = util::AtomicFile::create(dir.path() / "blob");
  ASSERT_TRUE(file.ok());
  std::string input = sample(1000000, 17);
  {
    FileSink sink(*file);
    for (size_t pos = 0; pos < input.size(); pos += 777) {
      ASSERT_TRUE(sink.write(std::string_view(input).substr(pos, 777)).ok());
    }
    ASSERT_TRUE(sink.write(std::string_view(input).substr(0, 300000)).ok());
    ASSERT_TRUE(sink.finish().ok());
    EXPECT_EQ(sink.size(), input.size() + 300000);
  }
  ASSERT_TRUE(file->commit().ok());
  auto back = util::read_file(dir.path() / "blob");
  ASSERT_TRUE(back.ok());
  EXPECT_TRUE(*back == input + input.substr(0, 300000));
}

}  // namespace
}  // namespace distill::archive
