// Deterministic, optionally parallel layer compression (gzip via libdeflate,
// zstd via libzstd) as a ByteSink that feeds a downstream sink.
//
// Determinism: the output bytes depend only on the input bytes, the algorithm
// and the level, never on `threads` or the machine.
//  - Gzip: the input is cut into 1 MiB chunks; each chunk becomes an independent
//    gzip member (RFC 1952 section 2.2 allows concatenated members; Go's
//    compress/gzip, GNU gzip and Python read them as one stream). Each member
//    header is 1f 8b 08, FLG 0 (no name), MTIME 0, XFL 0, OS 255 ("unknown").
//    With threads > 1, the chunks are compressed by the threads of a worker
//    pool (the build's, or one of min(threads, 8) threads of the stream's own)
//    while the caller fills the next ones, and members are written in order
//    (by whichever thread finds the oldest done); at most 2 * min(threads, 8)
//    chunks are in flight (~2 MiB each). Default level 6. A chunk that looks
//    incompressible (four 16 KiB slices gain under 2% at level 1) is stored,
//    not compressed. An empty input gives one empty member.
//  - Zstd: one single-threaded libzstd stream (zstd's multithreaded mode emits
//    bytes that depend on the worker count), default level 3, with the content
//    checksum flag set and no content size in the frame header.
//  - None: bytes pass through unchanged.
#pragma once

#include <memory>
#include <string>
#include <string_view>

#include "archive/byte_sink.hpp"
#include "util/result.hpp"

namespace distill::util {
class WorkerPool;
}

namespace distill::archive {

enum class Compression { None, Gzip, Zstd };

// "gzip"/"gz", "zstd"/"zst", "none"/"" -> Compression; else InvalidInput.
Result<Compression> parse_compression(std::string_view name);
// "gzip", "zstd", "none".
std::string to_string(Compression compression);
// OCI layer media type: application/vnd.oci.image.layer.v1.tar[+gzip|+zstd].
std::string layer_media_type(Compression compression);

inline constexpr size_t k_gzip_chunk_size = 1U << 20;

// The returned sink compresses what is written to it into `downstream`;
// finish() ends the stream and finishes `downstream`. `level` -1 = default.
// `tap`, when given, is written every input byte, in order, before finish()
// returns (it is not finished): with gzip on more than one thread, from the
// compressing threads, so the caller's thread does not spend its time there
// (a layer's diff_id hash). A failing tap fails the stream.
// `helpers`, when given (with threads > 1), is the pool whose threads
// compress the chunks (WorkerPool::offer()); the caller is meant to be one of
// them, and compresses chunks too rather than wait for room. With one thread
// and `helpers`, the caller compresses its own chunks and, after each, runs
// one job offered to `helpers` (another stream's chunk), if one is queued.
std::unique_ptr<ByteSink> make_compressor(Compression compression, ByteSink& downstream,
                                          unsigned threads, int level = -1, ByteSink* tap = nullptr,
                                          util::WorkerPool* helpers = nullptr);

// The gzip compressors and chunk buffers kept for the next stream are freed
// to the page arena; later streams make new ones. A build calls it once it
// has made its last layer (image/execute.hpp).
void release_kept_compressors();

}  // namespace distill::archive
