// resolve_url against RFC 3986 section 5.4's examples (base
// "http://a/b/c/d;p?q") and the Location headers registries send.
#include <gtest/gtest.h>

#include "net/url_reference.hpp"

namespace distill::net {
namespace {

TEST(ResolveUrl, Rfc3986NormalExamples) {
  const std::string base = "http://a/b/c/d;p?q";
  EXPECT_EQ(resolve_url(base, "g:h"), "g:h");
  EXPECT_EQ(resolve_url(base, "g"), "http://a/b/c/g");
  EXPECT_EQ(resolve_url(base, "./g"), "http://a/b/c/g");
  EXPECT_EQ(resolve_url(base, "g/"), "http://a/b/c/g/");
  EXPECT_EQ(resolve_url(base, "/g"), "http://a/g");
  EXPECT_EQ(resolve_url(base, "//g"), "http://g");
  EXPECT_EQ(resolve_url(base, "?y"), "http://a/b/c/d;p?y");
  EXPECT_EQ(resolve_url(base, "g?y"), "http://a/b/c/g?y");
  EXPECT_EQ(resolve_url(base, "#s"), "http://a/b/c/d;p?q");
  EXPECT_EQ(resolve_url(base, "g#s"), "http://a/b/c/g");
  EXPECT_EQ(resolve_url(base, ";x"), "http://a/b/c/;x");
  EXPECT_EQ(resolve_url(base, ""), "http://a/b/c/d;p?q");
  EXPECT_EQ(resolve_url(base, "."), "http://a/b/c/");
  EXPECT_EQ(resolve_url(base, "./"), "http://a/b/c/");
  EXPECT_EQ(resolve_url(base, ".."), "http://a/b/");
  EXPECT_EQ(resolve_url(base, "../"), "http://a/b/");
  EXPECT_EQ(resolve_url(base, "../g"), "http://a/b/g");
  EXPECT_EQ(resolve_url(base, "../.."), "http://a/");
  EXPECT_EQ(resolve_url(base, "../../g"), "http://a/g");
}

TEST(ResolveUrl, Rfc3986AbnormalExamples) {
  const std::string base = "http://a/b/c/d;p?q";
  EXPECT_EQ(resolve_url(base, "../../../g"), "http://a/g");
  EXPECT_EQ(resolve_url(base, "/./g"), "http://a/g");
  EXPECT_EQ(resolve_url(base, "/../g"), "http://a/g");
  EXPECT_EQ(resolve_url(base, "g."), "http://a/b/c/g.");
  EXPECT_EQ(resolve_url(base, "..g"), "http://a/b/c/..g");
  EXPECT_EQ(resolve_url(base, "./g/."), "http://a/b/c/g/");
  EXPECT_EQ(resolve_url(base, "g/../h"), "http://a/b/c/h");
  EXPECT_EQ(resolve_url(base, "g;x=1/../y"), "http://a/b/c/y");
  EXPECT_EQ(resolve_url(base, "g?y/./x"), "http://a/b/c/g?y/./x");
}

TEST(ResolveUrl, RegistryUploadLocations) {
  const std::string post = "https://127.0.0.1:5000/v2/team/app/blobs/uploads/";
  EXPECT_EQ(resolve_url(post, "/v2/team/app/blobs/uploads/u1?_state=x"),
            "https://127.0.0.1:5000/v2/team/app/blobs/uploads/u1?_state=x");
  EXPECT_EQ(resolve_url(post, "u1?_state=x"),
            "https://127.0.0.1:5000/v2/team/app/blobs/uploads/u1?_state=x");
  EXPECT_EQ(resolve_url(post, "https://storage.example/upload/u1?sig=y"),
            "https://storage.example/upload/u1?sig=y");
  EXPECT_EQ(resolve_url("http://h:1", "x"), "http://h:1/x");
}

}  // namespace
}  // namespace distill::net
