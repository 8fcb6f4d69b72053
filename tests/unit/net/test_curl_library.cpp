// libcurl is loaded on the first transfer, not when a client is made.
#include <gtest/gtest.h>

#include <string>

#include "net/curl_library.hpp"
#include "net/http_client.hpp"
#include "util/file_io.hpp"

namespace distill::net {
namespace {

bool libcurl_mapped() {
  auto maps = util::read_file("/proc/self/maps");
  return maps.ok() && maps->find("libcurl") != std::string::npos;
}

// ctest runs every test in a process of its own, so nothing before this test
// can have loaded the library.
TEST(CurlLibrary, AClientThatMakesNoRequestNeverMapsLibcurl) {
  if (libcurl_mapped()) {
    GTEST_SKIP() << "another test in this process loaded libcurl already";
  }
  auto client = make_curl_client();
  ASSERT_NE(client, nullptr);
  EXPECT_FALSE(libcurl_mapped());

  auto lib = curl::load();
  ASSERT_TRUE(lib.ok()) << lib.error().message;
  EXPECT_TRUE(libcurl_mapped());
  EXPECT_EQ(*lib, &curl::library());
  EXPECT_NE((*lib)->easy_perform, nullptr);
  EXPECT_STREQ((*lib)->easy_strerror(CURLE_OK), "No error");
  EXPECT_EQ(*curl::load(), *lib);  // once per process
}

}  // namespace
}  // namespace distill::net
