// The control record (package_control.hpp): a package's control file and
// md5sums are read from its .deb once, kept by the .deb's sha256, and read
// back as they were; a record that is not whole is never trusted.
#include <gtest/gtest.h>

#include <filesystem>

#include "fake_repository.hpp"
#include "image/package_control.hpp"
#include "util/file_io.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;
using testing::FakePackage;

const FakePackage k_hello{.name = "hello", .version = "2.10-3", .files = {{"usr/bin/hello", "hi"}}};
const char* const k_md5sums = "49f68a5c8493ec2c0bf489821c21fc3b  usr/bin/hello\n";

// A .deb whose control.tar holds control, md5sums and a postinst after them.
std::string hello_deb(const std::string& md5sums) {
  std::string control = testing::make_tar({{"control", testing::control_text(k_hello)},
                                           {"md5sums", md5sums},
                                           {"postinst", "#!/bin/sh\nexit 0\n", 0755}});
  return "!<arch>\n" + testing::ar_member("debian-binary", "2.0\n") +
         testing::ar_member("control.tar", control) +
         testing::ar_member("data.tar", testing::make_tar(k_hello.files));
}

class PackageControl : public ::testing::Test {
 protected:
  void SetUp() override {
    auto work = util::TempDir::create("distill-control-");
    ASSERT_TRUE(work.ok());
    m_work = std::make_unique<util::TempDir>(std::move(*work));
    m_cache = m_work->path() / "cache";
  }

  // The package of `bytes`, written as a .deb of its own.
  InstalledPackage package(const std::string& bytes) {
    return testing::installed_deb(k_hello, bytes,
                                  m_work->path() / (crypto::sha256(bytes).hex() + ".deb"));
  }

  archive::DebReader::Control control_of(const InstalledPackage& p) {
    auto deb = open_deb(p);
    EXPECT_TRUE(deb.ok()) << deb.error().message;
    auto control = package_control(p, *deb, m_cache);
    EXPECT_TRUE(control.ok()) << control.error().message;
    return control.ok() ? *control : archive::DebReader::Control{};
  }

  std::unique_ptr<util::TempDir> m_work;
  fs::path m_cache;
};

TEST_F(PackageControl, ReadFromTheDebThenFromItsRecord) {
  InstalledPackage p = package(hello_deb(k_md5sums));
  auto first = control_of(p);
  EXPECT_EQ(first.control, testing::control_text(k_hello));
  EXPECT_EQ(first.md5sums, k_md5sums);
  const fs::path record = control_record_path(p, m_cache);
  ASSERT_TRUE(fs::exists(record));
  EXPECT_EQ(record.parent_path().filename(), "controls");
  EXPECT_EQ(record.filename(), p.sha256.hex());

  // The record is what the second read uses: the .deb is not decoded again.
  archive::DebReader::Control planted{"Package: hello\nVersion: 2.10-3\nArchitecture: amd64\n",
                                      "planted"};
  ASSERT_TRUE(util::write_file_atomic(record, control_record(planted)).ok());
  auto second = control_of(p);
  EXPECT_EQ(second.control, planted.control);
  EXPECT_EQ(second.md5sums, planted.md5sums);
}

TEST_F(PackageControl, ARecordThatIsNotWholeIsReadAgainFromTheDeb) {
  InstalledPackage p = package(hello_deb(k_md5sums));
  const fs::path record = control_record_path(p, m_cache);
  const std::string whole = control_record(control_of(p));
  for (const std::string& damaged :
       {whole.substr(0, whole.size() - 1), whole + "x", std::string("distill control record 2\n"),
        std::string("distill control record 1\n99999999999999999999999 1\nab"),
        std::string("distill control record 1\n18446744073709551615 2\nab"),
        std::string("distill control record 1\n0 0\n"), std::string()}) {
    ASSERT_TRUE(util::write_file_atomic(record, damaged).ok());
    auto control = control_of(p);
    EXPECT_EQ(control.control, testing::control_text(k_hello)) << damaged;
    EXPECT_EQ(control.md5sums, k_md5sums) << damaged;
    // ... and the record is whole again.
    auto rewritten = util::read_file(record);
    ASSERT_TRUE(rewritten.ok());
    EXPECT_EQ(*rewritten, whole);
  }
}

TEST_F(PackageControl, RecordRoundTrip) {
  for (const archive::DebReader::Control& control :
       {archive::DebReader::Control{"Package: a\n", ""},
        archive::DebReader::Control{"Package: a\n", "0123  x y\n"},
        archive::DebReader::Control{std::string("P\0q\n", 4), std::string(70000, 'f')}}) {
    auto back = parse_control_record(control_record(control));
    ASSERT_TRUE(back.has_value());
    EXPECT_EQ(back->control, control.control);
    EXPECT_EQ(back->md5sums, control.md5sums);
  }
}

TEST_F(PackageControl, WithoutACacheDirectoryNothingIsKept) {
  InstalledPackage p = package(hello_deb(k_md5sums));
  auto deb = open_deb(p);
  ASSERT_TRUE(deb.ok());
  auto control = package_control(p, *deb, fs::path());
  ASSERT_TRUE(control.ok());
  EXPECT_EQ(control->md5sums, k_md5sums);
  EXPECT_FALSE(fs::exists(m_cache));
}

TEST_F(PackageControl, ADebWithoutControlIsAnErrorAndNoRecordIsKept) {
  std::string bytes = "!<arch>\n" + testing::ar_member("debian-binary", "2.0\n") +
                      testing::ar_member("control.tar", testing::make_tar({{"md5sums", "x"}})) +
                      testing::ar_member("data.tar", testing::make_tar(k_hello.files));
  InstalledPackage p = package(bytes);
  auto deb = open_deb(p);
  ASSERT_TRUE(deb.ok());
  auto control = package_control(p, *deb, m_cache);
  ASSERT_FALSE(control.ok());
  EXPECT_NE(control.error().message.find("no control file"), std::string::npos)
      << control.error().message;
  EXPECT_FALSE(fs::exists(control_record_path(p, m_cache)));
}

}  // namespace
}  // namespace distill::image
