// Image reference parsing: every transport form of the contract and the errors.
#include <gtest/gtest.h>

#include "oci/image_ref.hpp"

namespace distill::oci {
namespace {

using Transport = ImageRef::Transport;

ImageRef must_parse(std::string_view text) {
  auto ref = ImageRef::parse(text);
  EXPECT_TRUE(ref.ok()) << text << ": " << (ref.ok() ? "" : ref.error().message);
  return ref.ok() ? *ref : ImageRef{};
}

TEST(ImageRef, OciLayout) {
  ImageRef ref = must_parse("oci:out/img");
  EXPECT_EQ(ref.transport, Transport::OciLayout);
  EXPECT_EQ(ref.path, "out/img");
  EXPECT_EQ(ref.tag, "latest");
  EXPECT_EQ(ref.to_string(), "oci:out/img:latest");

  ref = must_parse("oci:/tmp/x:v1.2");
  EXPECT_EQ(ref.path, "/tmp/x");
  EXPECT_EQ(ref.tag, "v1.2");

  ref = must_parse("oci:dir:");
  EXPECT_EQ(ref.tag, "latest");

  // The first ':' ends the directory; ref names may contain ':'.
  ref = must_parse("oci:dir:example.com/app:1.0");
  EXPECT_EQ(ref.path, "dir");
  EXPECT_EQ(ref.tag, "example.com/app:1.0");
  EXPECT_EQ(ImageRef::parse(ref.to_string())->tag, ref.tag);
}

TEST(ImageRef, OciArchive) {
  ImageRef ref = must_parse("oci-archive:img.tar:prod");
  EXPECT_EQ(ref.transport, Transport::OciArchive);
  EXPECT_EQ(ref.path, "img.tar");
  EXPECT_EQ(ref.tag, "prod");
  EXPECT_EQ(ref.to_string(), "oci-archive:img.tar:prod");
  EXPECT_EQ(must_parse("oci-archive:img.tar").tag, "latest");
}

TEST(ImageRef, DockerArchive) {
  ImageRef ref = must_parse("docker-archive:img.tar");
  EXPECT_EQ(ref.transport, Transport::DockerArchive);
  EXPECT_EQ(ref.path, "img.tar");
  EXPECT_TRUE(ref.name.empty());
  EXPECT_EQ(ref.to_string(), "docker-archive:img.tar");

  ref = must_parse("docker-archive:/x/img.tar:myapp:1.0");
  EXPECT_EQ(ref.path, "/x/img.tar");
  EXPECT_EQ(ref.name, "myapp");
  EXPECT_EQ(ref.tag, "1.0");
  EXPECT_EQ(ref.to_string(), "docker-archive:/x/img.tar:myapp:1.0");

  ref = must_parse("docker-archive:img.tar:localhost:5000/team/app:dev");
  EXPECT_EQ(ref.name, "localhost:5000/team/app");
  EXPECT_EQ(ref.tag, "dev");

  ref = must_parse("docker-archive:img.tar:myapp");
  EXPECT_EQ(ref.name, "myapp");
  EXPECT_EQ(ref.tag, "latest");
}

TEST(ImageRef, RegistryWithHostAndPort) {
  ImageRef ref = must_parse("docker://127.0.0.1:5000/team/app:v2");
  EXPECT_EQ(ref.transport, Transport::Registry);
  EXPECT_EQ(ref.registry, "127.0.0.1:5000");
  EXPECT_EQ(ref.name, "team/app");
  EXPECT_EQ(ref.tag, "v2");
  EXPECT_TRUE(ref.digest.empty());
  EXPECT_EQ(ref.to_string(), "docker://127.0.0.1:5000/team/app:v2");

  ref = must_parse("docker://localhost/app");
  EXPECT_EQ(ref.registry, "localhost");
  EXPECT_EQ(ref.name, "app");
  EXPECT_EQ(ref.tag, "latest");

  ref = must_parse("docker://ghcr.io/org/app");
  EXPECT_EQ(ref.registry, "ghcr.io");
  EXPECT_EQ(ref.name, "org/app");
}

TEST(ImageRef, RegistryDockerHubNormalisation) {
  ImageRef ref = must_parse("docker://alpine");
  EXPECT_EQ(ref.registry, "docker.io");
  EXPECT_EQ(ref.name, "library/alpine");
  EXPECT_EQ(ref.tag, "latest");
  EXPECT_EQ(ref.to_string(), "docker://docker.io/library/alpine:latest");

  ref = must_parse("docker://user/app:1");
  EXPECT_EQ(ref.registry, "docker.io");
  EXPECT_EQ(ref.name, "user/app");
  EXPECT_EQ(ref.tag, "1");

  ref = must_parse("docker://docker.io/busybox");
  EXPECT_EQ(ref.name, "library/busybox");
}

TEST(ImageRef, RegistryDigest) {
  std::string hex(64, 'a');
  ImageRef ref = must_parse("docker://127.0.0.1:5000/app@sha256:" + hex);
  EXPECT_EQ(ref.digest, "sha256:" + hex);
  EXPECT_TRUE(ref.tag.empty());
  EXPECT_EQ(ref.to_string(), "docker://127.0.0.1:5000/app@sha256:" + hex);

  ref = must_parse("docker://127.0.0.1:5000/app:v1@sha256:" + hex);
  EXPECT_EQ(ref.tag, "v1");
  EXPECT_EQ(ref.digest, "sha256:" + hex);
}

TEST(ImageRef, Errors) {
  for (const char* text : {"",
                           "foo",
                           "out/img",
                           "oci:",
                           "oci::tag",
                           "oci:dir:bad tag",
                           "oci:dir:-x",
                           "oci-archive:",
                           "docker-archive:",
                           "docker-archive:f.tar:App:1",
                           "docker-archive:f.tar:app@sha256:00",
                           "docker://",
                           "docker://UPPER/app",
                           "docker://host:5000/App:v1",
                           "docker://host:5000/app:bad!tag",
                           "docker://app@sha256:123",
                           "docker://host:port/app",
                           "docker://h/a//b",
                           "dir:/x",
                           "docker-daemon:x:y"}) {
    auto ref = ImageRef::parse(text);
    EXPECT_FALSE(ref.ok()) << "accepted: " << text;
    if (!ref.ok()) {
      EXPECT_EQ(ref.error().kind, ErrorKind::InvalidInput) << text;
      EXPECT_NE(ref.error().message.find(text), std::string::npos) << ref.error().message;
    }
  }
}

// Issue 11, item 11: `--tag a:b:c` and `--tag UPPER:x` made malformed
// docker-archives; names and tags follow the reference grammar.
TEST(ImageRefNames, RepositoryNamesAndTags) {
  for (const char* good : {"app", "my-app", "a.b_c__d", "org/app", "localhost:5000/app",
                           "registry.example:443/team/app", "127.0.0.1/x"}) {
    EXPECT_TRUE(valid_repository_name(good)) << good;
  }
  for (const char* bad : {"", "UPPER", "a:b", "app/", "/app", "a..b", "-a", "a-", "a b",
                          "localhost:x/app", "Org/app"}) {
    EXPECT_FALSE(valid_repository_name(bad)) << bad;
  }
  for (const char* good : {"latest", "1.0", "v1_2-rc.3", "X", "_x"}) {
    EXPECT_TRUE(valid_tag(good)) << good;
  }
  for (const char* bad : {"", ".x", "-x", "a:b", "a/b", "a b"}) {
    EXPECT_FALSE(valid_tag(bad)) << bad;
  }
  EXPECT_FALSE(valid_tag(std::string(129, 'a')));
  Status status = check_name_and_tag("a:b", "c", "--tag 'a:b:c'");
  ASSERT_FALSE(status.ok());
  EXPECT_EQ(status.error().kind, ErrorKind::InvalidInput);
  EXPECT_NE(status.error().message.find("--tag 'a:b:c': image name 'a:b'"), std::string::npos)
      << status.error().message;
  EXPECT_FALSE(check_name_and_tag("UPPER", "x", "t").ok());
  EXPECT_TRUE(check_name_and_tag("app", "1.0", "t").ok());
}

}  // namespace
}  // namespace distill::oci
