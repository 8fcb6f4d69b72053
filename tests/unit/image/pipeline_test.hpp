// PipelineTest: the build pipeline's tests at its seam: a signed in-memory
// repository (fake_repository.hpp), a throwaway cache, a fixed clock and a
// BuildEnv over them; requests for bookworm/amd64 with a fixed epoch.
#pragma once

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>
#include <memory>
#include <string>
#include <vector>

#include "fake_repository.hpp"
#include "image/build.hpp"
#include "image/env.hpp"
#include "util/clock.hpp"
#include "util/progress.hpp"
#include "util/temp_dir.hpp"
#include "util/worker_pool.hpp"

namespace distill::image::testing {

class PipelineTest : public ::testing::Test {
 protected:
  // Publishes `packages` (after any m_repo settings) and opens the cache in a
  // new work directory; skips the test without gpg.
  void open(const std::vector<FakePackage>& packages, const std::string& work_prefix) {
    if (!FakeRepository::available()) {
      GTEST_SKIP() << "gpg and gpgv are needed to sign the test repository";
    }
    m_repo.publish(m_http, packages);
    auto work = util::TempDir::create(work_prefix);
    ASSERT_TRUE(work.ok());
    m_work = std::make_unique<util::TempDir>(std::move(*work));
    auto cache = net::ContentCache::open(m_work->path() / "cache");
    ASSERT_TRUE(cache.ok()) << cache.error().message;
    m_cache = std::make_unique<net::ContentCache>(std::move(*cache));
    m_env = std::make_unique<BuildEnv>(BuildEnv{m_http, *m_cache, m_clock, m_progress, m_pool});
  }

  BuildRequest request(std::vector<std::string> specs) {
    BuildRequest r;
    r.specs = std::move(specs);
    r.archs = {"amd64"};
    r.apt_root = m_repo.apt_root();
    r.default_release = "bookworm";  // what a bookworm host's os-release gives
    r.source_date_epoch = 1700000000;
    r.outputs = {"oci:" + (m_work->path() / "out").string() + ":{name}-{variant}"};
    return r;
  }

  std::filesystem::path write(const std::string& name, const std::string& bytes) {
    std::filesystem::path path = m_work->path() / name;
    std::filesystem::create_directories(path.parent_path());
    std::ofstream(path, std::ios::binary) << bytes;
    return path;
  }

  MapHttp m_http;
  FakeRepository m_repo;
  std::unique_ptr<util::TempDir> m_work;
  std::unique_ptr<net::ContentCache> m_cache;
  util::FixedClock m_clock{1790000000};
  util::Progress m_progress{util::Progress::Mode::None};
  util::WorkerPool m_pool{2};
  std::unique_ptr<BuildEnv> m_env;
};

}  // namespace distill::image::testing
