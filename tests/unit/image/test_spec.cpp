// Tests for the spec parser (CONTRACT.md "Spec format") and the built-in flavors.
#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

#include "image/flavors.hpp"
#include "image/spec.hpp"
#include "util/temp_dir.hpp"

namespace distill::image {
namespace {

namespace fs = std::filesystem;

class SpecTest : public ::testing::Test {
 protected:
  void SetUp() override {
    auto dir = util::TempDir::create("distill-spec-");
    ASSERT_TRUE(dir.ok());
    m_dir = std::make_unique<util::TempDir>(std::move(*dir));
    fs::create_directories(path() / "build");
    fs::create_directories(path() / "web" / "css");
    std::ofstream(path() / "build" / "server") << "binary";
    std::ofstream(path() / "web" / "index.html") << "<html>";
  }
  fs::path path() const { return m_dir->path(); }
  fs::path spec_path() const { return path() / "spec.yaml"; }
  Result<Spec> parse(const std::string& text) { return parse_spec(text, spec_path()); }
  // The error lines with the "DIR/spec.yaml:" prefix shortened to "spec.yaml:".
  std::vector<std::string> errors(const std::string& text) {
    auto result = parse(text);
    EXPECT_FALSE(result.ok()) << "expected an error for:\n" << text;
    std::vector<std::string> lines;
    if (result.ok()) {
      return lines;
    }
    EXPECT_EQ(result.error().kind, ErrorKind::InvalidInput);
    std::string prefix = spec_path().string() + ":";
    std::string message = result.error().message;
    size_t pos = 0;
    while (pos <= message.size()) {
      size_t end = message.find('\n', pos);
      if (end == std::string::npos) {
        end = message.size();
      }
      std::string line = message.substr(pos, end - pos);
      EXPECT_EQ(line.rfind(prefix, 0), 0u) << line;
      if (line.rfind(prefix, 0) == 0) {
        line = "spec.yaml:" + line.substr(prefix.size());
      }
      lines.push_back(line);
      pos = end + 1;
    }
    return lines;
  }
  std::string error(const std::string& text) {
    auto lines = errors(text);
    EXPECT_EQ(lines.size(), 1u) << ::testing::PrintToString(lines);
    return lines.empty() ? "" : lines[0];
  }

  std::unique_ptr<util::TempDir> m_dir;
};

const char* const k_contract_example = R"(name: myapp
from: cc
release: bookworm
sources:
  - url: http://mirror.example/debian
    suites: [bookworm, bookworm-updates]
    components: [main]
    keyring: /usr/share/keyrings/debian-archive-keyring.gpg
packages: [libc6, libssl3]
exclude: [debconf, perl-base]
archs: [amd64, arm64]
files:
  - {src: build/server, dst: /app/server, mode: "0755"}
  - {src: web/, dst: /app/web/}
  - {dst: /etc/app.conf, content: "port=8000\n"}
  - {dst: /var/lib/app, type: directory, mode: "0750", uid: 65532, gid: 65532}
  - {dst: /usr/bin/python, symlink: python3.11}
trace: [/app/server]
accounts:
  users: [{name: app, uid: 1000, gid: 1000, home: /home/app}]
  groups: [{name: app, gid: 1000}]
entrypoint: ["/app/server"]
cmd: ["--port", "8000"]
env: {TZ: UTC}
user: "65532"
workdir: /app
ports: ["8000/tcp"]
volumes: [/var/lib/app]
labels: {org.opencontainers.image.source: "https://example.org/app"}
annotations: {}
stop-signal: SIGTERM
)";

TEST_F(SpecTest, ContractExampleParsesToTheDocumentedValues) {
  auto result = parse(k_contract_example);
  ASSERT_TRUE(result.ok()) << result.error().message;
  const Spec& spec = *result;
  EXPECT_EQ(spec.file, spec_path());
  EXPECT_EQ(spec.name, "myapp");
  EXPECT_EQ(spec.from, "cc");
  EXPECT_EQ(spec.release, "bookworm");
  ASSERT_EQ(spec.sources.size(), 1u);
  EXPECT_EQ(spec.sources[0].url, "http://mirror.example/debian");
  EXPECT_EQ(spec.sources[0].suites, (std::vector<std::string>{"bookworm", "bookworm-updates"}));
  EXPECT_EQ(spec.sources[0].components, (std::vector<std::string>{"main"}));
  EXPECT_EQ(spec.sources[0].keyring, "/usr/share/keyrings/debian-archive-keyring.gpg");
  EXPECT_EQ(spec.sources[0].line, 5);
  EXPECT_EQ(spec.packages, (std::vector<std::string>{"libc6", "libssl3"}));
  EXPECT_EQ(spec.exclude, (std::vector<std::string>{"debconf", "perl-base"}));
  EXPECT_EQ(spec.archs, (std::vector<std::string>{"amd64", "arm64"}));

  ASSERT_EQ(spec.files.size(), 5u);
  EXPECT_EQ(spec.files[0].kind, SpecFile::Kind::File);
  EXPECT_EQ(spec.files[0].src, path() / "build" / "server");
  EXPECT_EQ(spec.files[0].dst, "/app/server");
  EXPECT_EQ(spec.files[0].mode, 0755u);
  EXPECT_EQ(spec.files[0].line, 13);
  EXPECT_EQ(spec.files[1].kind, SpecFile::Kind::Directory);
  EXPECT_EQ(spec.files[1].src, path() / "web");
  EXPECT_EQ(spec.files[1].dst, "/app/web");
  EXPECT_FALSE(spec.files[1].mode.has_value());
  EXPECT_EQ(spec.files[2].kind, SpecFile::Kind::Content);
  EXPECT_EQ(spec.files[2].dst, "/etc/app.conf");
  EXPECT_EQ(spec.files[2].content, "port=8000\n");
  EXPECT_EQ(spec.files[3].kind, SpecFile::Kind::EmptyDirectory);
  EXPECT_EQ(spec.files[3].dst, "/var/lib/app");
  EXPECT_EQ(spec.files[3].mode, 0750u);
  EXPECT_EQ(spec.files[3].uid, 65532u);
  EXPECT_EQ(spec.files[3].gid, 65532u);
  EXPECT_EQ(spec.files[4].kind, SpecFile::Kind::Symlink);
  EXPECT_EQ(spec.files[4].symlink_target, "python3.11");
  EXPECT_EQ(spec.files[4].uid, 0u);

  EXPECT_EQ(spec.trace, (std::vector<std::string>{"/app/server"}));
  ASSERT_TRUE(spec.users.has_value());
  ASSERT_EQ(spec.users->size(), 1u);
  EXPECT_EQ((*spec.users)[0].name, "app");
  EXPECT_EQ((*spec.users)[0].uid, 1000u);
  EXPECT_EQ((*spec.users)[0].gid, 1000u);
  EXPECT_EQ((*spec.users)[0].home, "/home/app");
  EXPECT_EQ((*spec.users)[0].shell, "/sbin/nologin");
  ASSERT_TRUE(spec.groups.has_value());
  ASSERT_EQ(spec.groups->size(), 1u);
  EXPECT_EQ((*spec.groups)[0].name, "app");
  EXPECT_EQ((*spec.groups)[0].gid, 1000u);
  EXPECT_EQ(spec.entrypoint, (std::vector<std::string>{"/app/server"}));
  EXPECT_EQ(spec.cmd, (std::vector<std::string>{"--port", "8000"}));
  EXPECT_EQ(spec.env, (std::map<std::string, std::string>{{"TZ", "UTC"}}));
  EXPECT_EQ(spec.user, "65532");
  EXPECT_EQ(spec.workdir, "/app");
  EXPECT_EQ(spec.ports, (std::vector<std::string>{"8000/tcp"}));
  EXPECT_EQ(spec.volumes, (std::vector<std::string>{"/var/lib/app"}));
  EXPECT_EQ(spec.labels, (std::map<std::string, std::string>{
                             {"org.opencontainers.image.source", "https://example.org/app"}}));
  EXPECT_TRUE(spec.annotations.empty());
  EXPECT_EQ(spec.stop_signal, "SIGTERM");

  EXPECT_EQ(spec.lines.at("packages"), 9);
  EXPECT_EQ(spec.lines.at("packages:libssl3"), 9);
  EXPECT_EQ(spec.lines.at("stop-signal"), 31);
  EXPECT_EQ(spec.where("trace:/app/server"), spec_path().string() + ":18");
}

TEST_F(SpecTest, MinimalSpecLeavesDefaults) {
  auto result = parse("packages: [hello]\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->from, "");
  EXPECT_EQ(result->release, "");
  EXPECT_FALSE(result->users.has_value());
  EXPECT_FALSE(result->groups.has_value());
  EXPECT_FALSE(result->entrypoint.has_value());
  EXPECT_FALSE(result->cmd.has_value());
  EXPECT_FALSE(result->user.has_value());
  EXPECT_TRUE(result->sources.empty());
}

TEST_F(SpecTest, UnknownTopLevelKey) {
  EXPECT_EQ(error("name: a\nfoo: 1\n"), "spec.yaml:2: unknown key 'foo'");
}

TEST_F(SpecTest, UnknownKeySuggestsTheNearestKnownOne) {
  EXPECT_EQ(error("name: a\nentrypont: [/x]\n"),
            "spec.yaml:2: unknown key 'entrypont' (did you mean 'entrypoint'?)");
  EXPECT_EQ(error("files:\n  - {dst: /a, content: x, mdoe: \"0644\"}\n"),
            "spec.yaml:2: unknown key 'mdoe' in files entry (did you mean 'mode'?)");
  EXPECT_EQ(error("pakages: [libc6]\n"),
            "spec.yaml:1: unknown key 'pakages' (did you mean 'packages'?)");
}

TEST_F(SpecTest, UnknownKeyInsideEntries) {
  EXPECT_EQ(error("files:\n  - {dst: /a, content: x, owner: root}\n"),
            "spec.yaml:2: unknown key 'owner' in files entry");
  EXPECT_EQ(error("sources:\n  - url: http://x/debian\n    suites: [a]\n    arch: amd64\n"),
            "spec.yaml:4: unknown key 'arch' in sources entry");
  EXPECT_EQ(error("accounts:\n  users: [{name: a, uid: 1, password: x}]\n"),
            "spec.yaml:2: unknown key 'password' in users entry");
  EXPECT_EQ(error("accounts:\n  groups: [{name: a, gid: 1, x: 1}]\n"),
            "spec.yaml:2: unknown key 'x' in groups entry");
  EXPECT_EQ(error("accounts:\n  people: []\n"), "spec.yaml:2: unknown key 'people' in accounts");
}

TEST_F(SpecTest, DuplicateKey) {
  EXPECT_EQ(error("name: a\nname: b\n"), "spec.yaml:2: duplicate key 'name'");
}

TEST_F(SpecTest, WrongTypes) {
  EXPECT_EQ(error("packages: libc6\n"), "spec.yaml:1: packages must be a list of strings");
  EXPECT_EQ(error("packages: [[a]]\n"), "spec.yaml:1: packages entries must be strings");
  EXPECT_EQ(error("name: [a]\n"), "spec.yaml:1: name must be a string");
  EXPECT_EQ(error("env: [A]\n"), "spec.yaml:1: env must be a mapping of strings to strings");
  EXPECT_EQ(error("env:\n  A: {b: c}\n"), "spec.yaml:2: env value of 'A' must be a string");
  EXPECT_EQ(error("files: {dst: /a}\n"), "spec.yaml:1: files must be a list of mappings");
  EXPECT_EQ(error("files:\n  - {dst: /a, type: directory, uid: -1}\n"),
            "spec.yaml:2: uid must be a non-negative integer");
  EXPECT_EQ(error("accounts:\n  users: [{name: a, uid: x}]\n"),
            "spec.yaml:2: uid must be a non-negative integer");
  EXPECT_EQ(error("entrypoint: /bin/app\n"), "spec.yaml:1: entrypoint must be a list of strings");
  EXPECT_EQ(error("- a\n- b\n"), "spec.yaml:1: the spec must be a mapping of keys to values");
}

TEST_F(SpecTest, ScalarEnvValuesBecomeStrings) {
  auto result = parse("env: {PORT: 8000, DEBUG: true, EMPTY: \"\"}\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->env.at("PORT"), "8000");
  EXPECT_EQ(result->env.at("DEBUG"), "true");
  EXPECT_EQ(result->env.at("EMPTY"), "");
}

TEST_F(SpecTest, FilesEntryNeedsExactlyOneSource) {
  EXPECT_EQ(error("files:\n  - {dst: /a}\n"),
            "spec.yaml:2: files entry needs one of src, content, symlink or type: directory");
  EXPECT_EQ(error("files:\n  - {dst: /a, content: x, symlink: y}\n"),
            "spec.yaml:2: files entry must have only one of src, content, symlink or type: "
            "directory");
  EXPECT_EQ(error("files:\n  - {content: x}\n"), "spec.yaml:2: files entry needs a dst");
  EXPECT_EQ(error("files:\n  - {dst: /a, type: file}\n"),
            "spec.yaml:2: type 'file' is not supported (only 'directory')");
}

TEST_F(SpecTest, MissingSrcFile) {
  auto line = error("files:\n  - {src: build/nothere, dst: /a}\n");
  EXPECT_EQ(line.rfind("spec.yaml:2: src 'build/nothere' does not exist", 0), 0u) << line;
}

TEST_F(SpecTest, AbsoluteSrcAndFileIntoDirectoryDst) {
  auto text = "files:\n  - {src: " + (path() / "build" / "server").string() + ", dst: /app/}\n";
  auto result = parse(text);
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->files[0].dst, "/app/server");
  EXPECT_EQ(result->files[0].kind, SpecFile::Kind::File);
}

TEST_F(SpecTest, DstMustBeAbsoluteWithoutDotDot) {
  EXPECT_EQ(error("files:\n  - {dst: app/x, content: x}\n"),
            "spec.yaml:2: dst 'app/x' must be absolute and must not contain '..'");
  EXPECT_EQ(error("files:\n  - {dst: /app/../etc/shadow, content: x}\n"),
            "spec.yaml:2: dst '/app/../etc/shadow' must be absolute and must not contain '..'");
}

TEST_F(SpecTest, DstIsNormalised) {
  auto result = parse("files:\n  - {dst: //etc/./app//x.conf, content: x}\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->files[0].dst, "/etc/app/x.conf");
}

TEST_F(SpecTest, BadMode) {
  EXPECT_EQ(error("files:\n  - {dst: /a, content: x, mode: \"0855\"}\n"),
            "spec.yaml:2: mode '0855' is not an octal mode like \"0755\"");
  EXPECT_EQ(error("files:\n  - {dst: /a, content: x, mode: rwx}\n"),
            "spec.yaml:2: mode 'rwx' is not an octal mode like \"0755\"");
  auto result = parse("files:\n  - {dst: /tmp2, type: directory, mode: \"01777\"}\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->files[0].mode, 01777u);
}

TEST_F(SpecTest, Ports) {
  EXPECT_EQ(error("ports: [\"8000/sctp\"]\n"),
            "spec.yaml:1: port '8000/sctp' is not like \"8000/tcp\" or \"53/udp\"");
  EXPECT_EQ(error("ports:\n  - 8000/tcp\n  - 70000/tcp\n"),
            "spec.yaml:3: port '70000/tcp' is not like \"8000/tcp\" or \"53/udp\"");
  EXPECT_EQ(error("ports: [http]\n"),
            "spec.yaml:1: port 'http' is not like \"8000/tcp\" or \"53/udp\"");
  auto result = parse("ports: [\"53/udp\", 8080]\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->ports, (std::vector<std::string>{"53/udp", "8080/tcp"}));
}

TEST_F(SpecTest, ArchsUseDebianNames) {
  EXPECT_EQ(error("archs: [amd64, x86_64]\n"),
            "spec.yaml:1: unknown architecture 'x86_64' (Debian names: amd64, arm64, armhf, "
            "armel, i386, ppc64el, s390x, riscv64, mips64el, mipsel)");
}

TEST_F(SpecTest, EmptyMappingKeysAndHugeNamesAreRefusedBriefly) {
  EXPECT_EQ(error("labels: {\"\": x}\n"), "spec.yaml:1: labels keys must not be empty");
  EXPECT_EQ(error("env: {\"\": x}\n"), "spec.yaml:1: env keys must not be empty");
  EXPECT_EQ(error("annotations:\n  \"\": x\n"), "spec.yaml:2: annotations keys must not be empty");
  // A name of a megabyte is shown by its first 80 characters.
  std::string message = error("name: " + std::string(1 << 20, 'X') + "\n");
  EXPECT_LT(message.size(), 300U) << message.substr(0, 300);
  EXPECT_EQ(message.rfind("spec.yaml:1: name 'XXXX", 0), 0U) << message.substr(0, 100);
}

TEST_F(SpecTest, AnArchGivenTwiceIsRefused) {
  EXPECT_EQ(error("archs:\n  - amd64\n  - arm64\n  - amd64\n"),
            "spec.yaml:4: archs: amd64 given twice");
}

TEST_F(SpecTest, PackageEntriesAreCheckedWhenTheSpecIsRead) {
  auto lines = errors("packages:\n  - libc6>=9\n  - LIBC6\n  - \"libc6:\"\nexclude: [x=1]\n");
  ASSERT_EQ(lines.size(), 4U);
  EXPECT_EQ(lines[0],
            "spec.yaml:2: packages entry 'libc6>=9' is not a package name (NAME, "
            "NAME=VERSION or NAME:ARCH)");
  EXPECT_EQ(lines[1],
            "spec.yaml:3: packages entry 'LIBC6' is not a package name (NAME, "
            "NAME=VERSION or NAME:ARCH)");
  EXPECT_EQ(lines[2],
            "spec.yaml:4: packages entry 'libc6:' is not a package name (NAME, "
            "NAME=VERSION or NAME:ARCH)");
  EXPECT_EQ(lines[3], "spec.yaml:5: exclude entry 'x=1' is not a package name");
  auto good = parse("packages: [libc6, \"libssl3=3.0.15-1~deb12u1\", \"libc6:arm64\"]\n");
  ASSERT_TRUE(good.ok()) << good.error().message;
}

TEST_F(SpecTest, StopSignal) {
  EXPECT_EQ(error("stop-signal: TERM\n"),
            "spec.yaml:1: stop-signal 'TERM' is not a signal name like SIGTERM or a number");
  EXPECT_TRUE(parse("stop-signal: 15\n").ok());
  EXPECT_TRUE(parse("stop-signal: SIGRTMIN+3\n").ok());
}

// Issue 11, item 11: values no image config can carry are refused with the
// spec's file and line.
TEST_F(SpecTest, StopSignalMustBeARealSignal) {
  EXPECT_EQ(error("stop-signal: SIGFOO\n"),
            "spec.yaml:1: stop-signal 'SIGFOO' is not a signal name like SIGTERM or a number");
  EXPECT_FALSE(parse("stop-signal: SIGRTMIN+99\n").ok());
  EXPECT_FALSE(parse("stop-signal: \"65\"\n").ok());
  for (const char* good : {"SIGKILL", "SIGUSR1", "SIGWINCH", "SIGRTMAX-2", "SIGRTMIN", "9"}) {
    EXPECT_TRUE(parse(std::string("stop-signal: ") + good + "\n").ok()) << good;
  }
}

TEST_F(SpecTest, EnvValuesWithLineBreaksOrNulAreRefused) {
  EXPECT_EQ(error("name: x\nenv:\n  A: ok\n  B: \"one\\ntwo\"\n"),
            "spec.yaml:4: env value of 'B' contains a line break");
  EXPECT_EQ(error("env:\n  A: \"x\\0y\"\n"), "spec.yaml:2: env value of 'A' contains a NUL byte");
  EXPECT_EQ(error("env:\n  \"A\\tB\": x\n"),
            "spec.yaml:2: env name 'A\\x09B' must be non-empty and contain no '=' or control "
            "character");
}

TEST_F(SpecTest, UserMustBeOneNameOrIdAndGroup) {
  EXPECT_EQ(error("user: \"0:0\\nroot\"\n"),
            "spec.yaml:1: user '0:0\\x0aroot' is not like \"name\", \"uid\", \"uid:gid\" or "
            "\"name:group\"");
  EXPECT_FALSE(parse("user: \"a:b:c\"\n").ok());
  EXPECT_FALSE(parse("user: \":0\"\n").ok());
  EXPECT_FALSE(parse("user: \"root \"\n").ok());
  // Ids are 32 bits and 4294967295 is (uid_t)-1, "no id".
  EXPECT_EQ(error("user: 4294967295\n"),
            "spec.yaml:1: user '4294967295' is not like \"name\", \"uid\", \"uid:gid\" or "
            "\"name:group\"");
  EXPECT_FALSE(parse("user: \"0:99999999999\"\n").ok());
  EXPECT_FALSE(parse("user: \"18446744073709551617\"\n").ok());
  for (const char* good :
       {"root", "65532", "65532:65532", "app:staff", "4294967294:0", "app:4294967294"}) {
    EXPECT_TRUE(parse(std::string("user: \"") + good + "\"\n").ok()) << good;
  }
}

TEST_F(SpecTest, NulInAPathIsRefusedButContentMayBeBinary) {
  EXPECT_EQ(error("name: x\nfiles:\n  - {dst: \"/a\\0b\", content: x}\n"),
            "spec.yaml:3: dst contains a NUL byte");
  EXPECT_EQ(error("entrypoint: [\"/bin/x\\0\"]\n"),
            "spec.yaml:1: entrypoint entry contains a NUL byte");
  EXPECT_TRUE(parse("files:\n  - {dst: /bin.dat, content: \"a\\0b\"}\n").ok());
}

TEST_F(SpecTest, DuplicateDst) {
  EXPECT_EQ(error("files:\n  - {dst: /a, content: x}\n  - {dst: /a/, symlink: b}\n"),
            "spec.yaml:3: duplicate dst '/a' (first at line 2)");
}

TEST_F(SpecTest, AllProblemsAreReportedTogether) {
  auto lines = errors(
      "name: app\n"
      "colour: blue\n"
      "packages: libc6\n"
      "files:\n"
      "  - {dst: relative, content: x}\n"
      "  - {src: missing, dst: /m}\n"
      "  - {dst: /b, content: x, mode: \"999\"}\n"
      "ports: [\"1/icmp\"]\n");
  ASSERT_EQ(lines.size(), 6u);
  EXPECT_EQ(lines[0], "spec.yaml:2: unknown key 'colour'");
  EXPECT_EQ(lines[1], "spec.yaml:3: packages must be a list of strings");
  EXPECT_EQ(lines[2], "spec.yaml:5: dst 'relative' must be absolute and must not contain '..'");
  EXPECT_EQ(lines[3].rfind("spec.yaml:6: src 'missing' does not exist", 0), 0u);
  EXPECT_EQ(lines[4], "spec.yaml:7: mode '999' is not an octal mode like \"0755\"");
  EXPECT_EQ(lines[5], "spec.yaml:8: port '1/icmp' is not like \"8000/tcp\" or \"53/udp\"");
}

TEST_F(SpecTest, YamlSyntaxErrorNamesLine) {
  auto line = error("name: a\npackages: [a, b\nfiles: x\n");
  EXPECT_EQ(line.rfind("spec.yaml:", 0), 0u);
  EXPECT_NE(line.find("invalid YAML"), std::string::npos) << line;
}

TEST_F(SpecTest, YamlNestedTooDeeplyIsSaidSo) {
  auto line = error("name: a\nlabels: " + std::string(600, '[') + std::string(600, ']') + "\n");
  EXPECT_EQ(line, "spec.yaml:2: invalid YAML: nested too deeply");
}

TEST_F(SpecTest, AFilesEntryWithARefusedContentGetsOneLineForIt) {
  // Not also "needs one of src, content...": the content was given.
  EXPECT_EQ(error("name: a\nfiles:\n  - {content: [x], dst: /a}\n"),
            "spec.yaml:3: content must be a string");
}

TEST_F(SpecTest, EmptySpecIsAnError) { EXPECT_EQ(error(""), "spec.yaml:1: the spec is empty"); }

TEST_F(SpecTest, AccountsDefaults) {
  auto result = parse("accounts:\n  users: [{name: svc, uid: 900}, {name: root, uid: 0}]\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  ASSERT_EQ(result->users->size(), 2u);
  EXPECT_EQ((*result->users)[0].gid, 900u);
  EXPECT_EQ((*result->users)[0].home, "/home/svc");
  EXPECT_EQ((*result->users)[1].home, "/root");
  EXPECT_FALSE(result->groups.has_value());
  EXPECT_EQ(error("accounts:\n  groups: [{name: g}]\n"), "spec.yaml:2: group 'g' needs a gid");
}

// /etc/passwd and /etc/group are rendered from these fields: a ':' or a
// newline in one would add fields or whole accounts (a second uid 0).
TEST_F(SpecTest, AccountFieldsThatWouldCorruptPasswdAreRefused) {
  EXPECT_EQ(error("accounts:\n  users:\n    - name: a\n      uid: 1\n"
                  "      shell: \"/sbin/nologin\\nevil::0:0::/root:/bin/sh\"\n"),
            "spec.yaml:3: shell '/sbin/nologin\\x0aevil::0:0::/root:/bin/sh' must not contain "
            "':' or control characters (/etc/passwd separates fields with ':' and entries with "
            "newlines)");
  EXPECT_EQ(error("accounts:\n  users: [{name: a, uid: 1, shell: \"/bin/sh:evil\"}]\n"),
            "spec.yaml:2: shell '/bin/sh:evil' must not contain ':' or control characters "
            "(/etc/passwd separates fields with ':' and entries with newlines)");
  EXPECT_EQ(error("accounts:\n  users: [{name: a, uid: 1, home: \"/home/h:x\"}]\n"),
            "spec.yaml:2: home '/home/h:x' must not contain ':' or control characters "
            "(/etc/passwd separates fields with ':' and entries with newlines)");
  EXPECT_EQ(error("accounts:\n  groups: [{name: g, gid: 1, members: [\"a,b\"]}]\n"),
            "spec.yaml:2: member 'a,b' of group 'g' is not a valid user name");
  EXPECT_EQ(error("accounts:\n  groups: [{name: g, gid: 1, members: [\"a\\nb\"]}]\n"),
            "spec.yaml:2: member 'a\\x0ab' of group 'g' is not a valid user name");
  EXPECT_EQ(error("accounts:\n  users: [{name: \"a$b\", uid: 1}]\n"),
            "spec.yaml:2: user name 'a$b' is not valid");
  EXPECT_EQ(error("accounts:\n  users: [{name: \"a\\nb\", uid: 1}]\n"),
            "spec.yaml:2: user name 'a\\x0ab' is not valid");
  EXPECT_EQ(error("accounts:\n  users: [{name: " + std::string(33, 'a') + ", uid: 1}]\n"),
            "spec.yaml:2: user name '" + std::string(33, 'a') + "' is not valid");
  EXPECT_EQ(error("accounts:\n  groups: [{name: \"g:x\", gid: 1}]\n"),
            "spec.yaml:2: group name 'g:x' is not valid");
  // What useradd takes is still taken.
  auto ok = parse(
      "accounts:\n  users: [{name: \"host$\", uid: 1}, {name: a.b-c_d, uid: 2, shell: "
      "\"\"}]\n  groups: [{name: g, gid: 1, members: [a.b-c_d, \"host$\"]}]\n");
  ASSERT_TRUE(ok.ok()) << ok.error().message;
  EXPECT_EQ((*ok->groups)[0].line, 3);
}

// Names the OCI layer format reserves (whiteouts delete base content when
// unpacked) and names no Linux file system takes are not a dst.
TEST_F(SpecTest, WhiteoutNamesAndOverlongNamesAreNotADst) {
  EXPECT_EQ(error("files:\n  - {dst: /etc/.wh.passwd, content: \"\"}\n"),
            "spec.yaml:2: dst '/etc/.wh.passwd': '.wh.passwd' is a whiteout name (names starting "
            "with .wh. are reserved by the OCI image layer format: they delete files of the "
            "layers below)");
  EXPECT_NE(error("files:\n  - {dst: /app/.wh..wh..opq/x, type: directory}\n")
                .find("'.wh..wh..opq' is a whiteout name"),
            std::string::npos);
  EXPECT_NE(error("files:\n  - {src: build/server, dst: /.wh.app/}\n").find("whiteout"),
            std::string::npos);
  EXPECT_NE(error("archives:\n  - url: https://x.org/a.tgz\n    sha256: " + std::string(64, 'a') +
                  "\n    dst: /opt/.wh.t\n")
                .find("spec.yaml:4: dst '/opt/.wh.t': '.wh.t' is a whiteout name"),
            std::string::npos);
  std::string long_name(256, 'n');
  EXPECT_EQ(error("files:\n  - {dst: /app/" + long_name + ", content: x}\n"),
            "spec.yaml:2: dst '/app/" + long_name.substr(0, 80 - 5) + "': a name of 256 bytes ('" +
                long_name.substr(0, 40) + "...'), longer than the 255 a Linux file system takes");
  EXPECT_TRUE(parse("files:\n  - {dst: /app/" + std::string(255, 'n') +
                    ", content: x}\n"
                    "  - {dst: /app/a.wh.b, content: x}\n")
                  .ok());
}

// A layer cannot hold a file with entries inside it (unpacking fails with
// "not a directory"), nor entries written through its own symlink.
TEST_F(SpecTest, AnEntryInsideAFileOrSymlinkOfTheSpecIsRefused) {
  EXPECT_EQ(error("files:\n  - {dst: /app/x, content: a}\n  - {dst: /app/x/y, content: b}\n"),
            "spec.yaml:3: dst '/app/x/y' is inside '/app/x', which line 2 makes a file");
  EXPECT_EQ(error("files:\n  - {dst: /app/lnk/passwd, content: x}\n"
                  "  - {dst: /app/lnk, symlink: /etc}\n"),
            "spec.yaml:2: dst '/app/lnk/passwd' is inside '/app/lnk', which line 3 makes a "
            "symlink");
  EXPECT_EQ(error("files:\n  - {src: build/server, dst: /srv}\n  - {dst: /srv/a/b, type: "
                  "directory}\n"),
            "spec.yaml:3: dst '/srv/a/b' is inside '/srv', which line 2 makes a file");
  fs::create_directory_symlink("web", path() / "weblink");
  EXPECT_EQ(error("files:\n  - {src: weblink, dst: /w}\n  - {dst: /w/x, content: b}\n"),
            "spec.yaml:3: dst '/w/x' is inside '/w', which line 2 makes a symlink");
  // Inside a directory (copied or empty) is fine.
  EXPECT_TRUE(parse("files:\n  - {src: web, dst: /w}\n  - {dst: /w/x, content: b}\n"
                    "  - {dst: /d, type: directory}\n  - {dst: /d/e, symlink: x}\n")
                  .ok());
}

TEST_F(SpecTest, FileUrlsWithOneSlashAreTaken) {
  auto result = parse(
      "sources:\n  - {url: \"file:/srv/repo\", suites: [bookworm]}\n"
      "archives:\n  - url: file:/tmp/a.tgz\n    sha256: " +
      std::string(64, 'a') + "\n");
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->sources[0].url, "file:/srv/repo");
  EXPECT_EQ(result->archives[0].downloads[0].url, "file:/tmp/a.tgz");
}

TEST_F(SpecTest, SourcesNeedUrlAndSuites) {
  auto lines = errors("sources:\n  - {components: [main]}\n");
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "spec.yaml:2: sources entry needs a url");
  EXPECT_EQ(lines[1], "spec.yaml:2: sources entry needs at least one suite");
}

TEST_F(SpecTest, SourcesNeedAHostAndAKeyringThatIsAFile) {
  EXPECT_EQ(error("sources:\n  - {url: \"http://\", suites: [bookworm]}\n"),
            "spec.yaml:2: sources url 'http://' must be http://HOST/..., https://HOST/... or "
            "file:/PATH");
  EXPECT_EQ(error("sources:\n  - {url: \"https:///debian\", suites: [bookworm]}\n"),
            "spec.yaml:2: sources url 'https:///debian' must be http://HOST/..., "
            "https://HOST/... or file:/PATH");
  EXPECT_EQ(error("sources:\n  - {url: \"http://h/debian\", suites: [bookworm], keyring: "
                  "keys/none.gpg}\n"),
            "spec.yaml:2: keyring '" + (path() / "keys/none.gpg").string() + "' is not a file");
  fs::create_directories(path() / "keys");
  std::ofstream(path() / "keys/archive.gpg") << "key";
  auto good = parse(
      "sources:\n  - {url: \"http://h/debian\", suites: [bookworm], keyring: "
      "keys/archive.gpg}\n");
  ASSERT_TRUE(good.ok()) << good.error().message;
}

TEST_F(SpecTest, TraceAndVolumesMustBeAbsolute) {
  EXPECT_EQ(error("trace: [app/server]\n"),
            "spec.yaml:1: trace path 'app/server' must be absolute and must not contain '..'");
  EXPECT_EQ(error("volumes: [data]\n"),
            "spec.yaml:1: volume 'data' must be absolute and must not contain '..'");
}

TEST_F(SpecTest, LoadSpecReadsTheFile) {
  std::ofstream(spec_path()) << "name: fromfile\nfiles:\n  - {src: web, dst: /w}\n";
  auto result = load_spec(spec_path());
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(result->name, "fromfile");
  EXPECT_EQ(result->files[0].src, path() / "web");
  EXPECT_EQ(result->files[0].kind, SpecFile::Kind::Directory);
  auto missing = load_spec(path() / "nope.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.error().kind, ErrorKind::NotFound);
}

TEST(Flavors, AllContractFlavorsAreBuiltInForBothReleases) {
  for (const auto& flavor : builtin_flavors()) {
    EXPECT_FALSE(flavor.description.empty()) << flavor.release << "/" << flavor.name;
  }
  EXPECT_EQ(flavor_names(), (std::vector<std::string>{"static", "base-nossl", "base", "cc",
                                                      "python3", "nodejs", "java17", "java21"}));
  for (const char* name : {"static", "base-nossl", "base", "cc", "python3", "nodejs"}) {
    EXPECT_EQ(flavor_releases(name), (std::vector<std::string>{"bookworm", "trixie"})) << name;
  }
  EXPECT_EQ(flavor_releases("java17"), (std::vector<std::string>{"bookworm"}));
  EXPECT_EQ(flavor_releases("java21"), (std::vector<std::string>{"trixie"}));
  EXPECT_EQ(find_flavor("nope", "bookworm"), nullptr);
  ASSERT_NE(find_flavor("cc", "bookworm"), nullptr);
  EXPECT_EQ(find_flavor("cc", "trixie")->release, "trixie");
  EXPECT_EQ(load_flavor("nope", "bookworm").error().kind, ErrorKind::NotFound);
}

TEST(Flavors, ADistrolessStyleNameCarriesItsRelease) {
  ASSERT_NE(find_flavor("cc-debian13", "bookworm"), nullptr);
  EXPECT_EQ(find_flavor("cc-debian13", "bookworm")->release, "trixie");
  EXPECT_EQ(find_flavor("cc-debian12", "trixie")->release, "bookworm");
  EXPECT_TRUE(is_flavor_name("python3-debian13"));
  EXPECT_FALSE(is_flavor_name("java17-debian13"));
  EXPECT_FALSE(is_flavor_name("cc-debian99"));
}

TEST(Flavors, AFlavorMissingFromAReleaseSaysWhereItExists) {
  auto java = load_flavor("java17", "trixie");
  ASSERT_FALSE(java.ok());
  EXPECT_NE(java.error().message.find("'java17' has no trixie version (it exists for bookworm; use "
                                      "--release bookworm or java17-debian12)"),
            std::string::npos)
      << java.error().message;
}

TEST(Flavors, EveryFlavorParsesAndChainsToAFlavorOfItsRelease) {
  for (const auto& flavor : builtin_flavors()) {
    auto spec = load_flavor(flavor.name, flavor.release);
    ASSERT_TRUE(spec.ok()) << flavor.name << ": " << spec.error().message;
    EXPECT_EQ(spec->name, flavor.name);
    EXPECT_TRUE(spec->file.empty());
    EXPECT_EQ(spec->display_name, flavor.release + "/" + flavor.name + ".yaml (built-in)");
    EXPECT_FALSE(spec->packages.empty()) << flavor.name;
    if (flavor.name == "static") {
      EXPECT_EQ(spec->release, flavor.release);
    } else {
      EXPECT_TRUE(spec->release.empty()) << flavor.name << ": only static names the release";
      EXPECT_NE(find_flavor(spec->from, flavor.release), nullptr)
          << flavor.name << " from " << spec->from;
    }
  }
  auto python = load_flavor("python3", "bookworm");
  ASSERT_TRUE(python.ok());
  EXPECT_EQ(python->entrypoint, (std::vector<std::string>{"/usr/bin/python3.11"}));
  EXPECT_EQ(python->env.at("LANG"), "C.UTF-8");
  ASSERT_EQ(python->files.size(), 2u);
  EXPECT_EQ(python->files[0].kind, SpecFile::Kind::Symlink);
  EXPECT_EQ(load_flavor("python3", "trixie")->entrypoint,
            (std::vector<std::string>{"/usr/bin/python3.13"}));
  auto java = load_flavor("java17", "bookworm");
  ASSERT_TRUE(java.ok());
  EXPECT_EQ(java->entrypoint, (std::vector<std::string>{"/usr/bin/java", "-jar"}));
  EXPECT_EQ(load_flavor("base", "trixie")->from, "static");
  EXPECT_EQ(load_flavor("java21", "trixie")->from, "base-nossl");
  EXPECT_EQ(load_flavor("base", "trixie")->packages,
            (std::vector<std::string>{"libc6", "libssl3t64"}));
}

const std::string k_sha_a(64, 'a');
const std::string k_sha_b(64, 'b');

TEST_F(SpecTest, ArchivesWithOneDownloadAndWithDownloadsPerArch) {
  auto spec = parse(
      "archives:\n"
      "  - url: https://example.org/tool.tar.gz\n"
      "    sha256: " +
      std::string(64, 'A') +
      "\n"
      "  - name: node\n"
      "    version: 22.11.0\n"
      "    strip: 1\n"
      "    dst: /nodejs//\n"
      "    include: [bin, lib]\n"
      "    exclude: ['*.md']\n"
      "    uid: 65532\n"
      "    gid: 65532\n"
      "    mode: 0750\n"
      "    dir-mode: '0755'\n"
      "    downloads:\n"
      "      - {arch: amd64, url: 'http://127.0.0.1/x64.tar.xz', sha256: " +
      k_sha_a +
      "}\n"
      "      - {arch: arm64, url: 'http://u:p@archives.test/arm64.tar.xz', sha256: " +
      k_sha_b + "}\n");
  ASSERT_TRUE(spec.ok()) << spec.error().message;
  ASSERT_EQ(spec->archives.size(), 2U);
  const SpecArchive& tool = spec->archives[0];
  EXPECT_EQ(tool.line, 2);
  ASSERT_EQ(tool.downloads.size(), 1U);
  EXPECT_EQ(tool.downloads[0].arch, "");
  EXPECT_EQ(tool.downloads[0].sha256, k_sha_a);  // lower-cased
  EXPECT_EQ(tool.dst, "/");
  EXPECT_EQ(tool.strip, 0U);
  EXPECT_EQ(tool.label(), "https://example.org/tool.tar.gz");
  const SpecArchive& node = spec->archives[1];
  EXPECT_EQ(node.label(), "node 22.11.0");
  EXPECT_EQ(node.strip, 1U);
  EXPECT_EQ(node.dst, "/nodejs");
  EXPECT_EQ(node.include, (std::vector<std::string>{"bin", "lib"}));
  EXPECT_EQ(node.exclude, (std::vector<std::string>{"*.md"}));
  EXPECT_EQ(node.uid, 65532U);
  EXPECT_EQ(node.mode, 0750U);
  EXPECT_EQ(node.dir_mode, 0755U);
  ASSERT_EQ(node.downloads.size(), 2U);
  EXPECT_EQ(node.downloads[1].arch, "arm64");
  EXPECT_EQ(node.downloads[1].url, "http://archives.test/arm64.tar.xz");  // no credentials
  EXPECT_EQ(node.downloads[1].line, 16);
}

TEST_F(SpecTest, ArchiveErrorsNameTheirLine) {
  EXPECT_EQ(error("archives: {url: x}\n"), "spec.yaml:1: archives must be a list of mappings");
  EXPECT_EQ(error("archives:\n  - url: http://127.0.0.1/a.tar\n"),
            "spec.yaml:2: archives entry needs a sha256 (the archive is verified before it is "
            "used)");
  EXPECT_EQ(error("archives:\n  - sha256: " + k_sha_a + "\n"),
            "spec.yaml:2: archives entry needs a url");
  EXPECT_EQ(error("archives:\n  - url: http://127.0.0.1/a.tar\n    sha256: abc\n"),
            "spec.yaml:3: sha256 'abc' is not 64 hexadecimal digits");
  EXPECT_EQ(error("archives:\n  - url: ftp://h/a.tar\n    sha256: " + k_sha_a + "\n"),
            "spec.yaml:2: archive url 'ftp://h/a.tar' must be http://HOST/..., https://HOST/... or "
            "file:/PATH");
  EXPECT_EQ(
      error("archives:\n  - url: http://h/a.tar\n    sha256: " + k_sha_a + "\n    arch: x86_64\n"),
      "spec.yaml:4: unknown architecture 'x86_64' (Debian names: amd64, arm64, armhf, "
      "armel, i386, ppc64el, s390x, riscv64, mips64el, mipsel)");
  EXPECT_EQ(
      error("archives:\n  - url: http://h/a.tar\n    sha256: " + k_sha_a + "\n    dst: relative\n"),
      "spec.yaml:4: dst 'relative' must be absolute and must not contain '..'");
  EXPECT_EQ(
      error("archives:\n  - url: http://h/a.tar\n    sha256: " + k_sha_a + "\n    strip: -1\n"),
      "spec.yaml:4: strip must be a non-negative integer");
  EXPECT_EQ(
      error("archives:\n  - url: http://h/a.tar\n    sha256: " + k_sha_a + "\n    mode: 999\n"),
      "spec.yaml:4: mode '999' is not an octal mode like \"0755\"");
  EXPECT_EQ(
      error("archives:\n  - url: http://h/a.tar\n    sha256: " + k_sha_a + "\n    owner: 0:0\n"),
      "spec.yaml:4: unknown key 'owner' in archives entry");
  EXPECT_EQ(
      error("archives:\n  - url: http://h/a.tar\n    sha256: " + k_sha_a + "\n    downloads: []\n"),
      "spec.yaml:2: archives entry has both url/sha256/arch and downloads; use one");
  EXPECT_EQ(error("archives:\n  - name: n\n    downloads:\n"
                  "      - {arch: amd64, url: 'http://h/a', sha256: " +
                  k_sha_a +
                  "}\n"
                  "      - {arch: amd64, url: 'http://h/b', sha256: " +
                  k_sha_b + "}\n"),
            "spec.yaml:5: downloads entry for 'amd64' given twice (first at line 4)");
  EXPECT_EQ(error("archives:\n  - name: a b\n    url: http://h/a\n    sha256: " + k_sha_a + "\n"),
            "spec.yaml:2: name 'a b' must be letters, digits and '.', '_', '+', '-', '~'");
}

// The examples parse, with a download (and a real sha256) for each architecture.
TEST_F(SpecTest, ArchiveExamplesParse) {
  for (const std::string example : {"nodejs22/nodejs22.yaml", "temurin-jre/temurin-jre.yaml"}) {
    auto spec = load_spec(fs::path(DISTILL_SOURCE_DIR) / "examples" / example);
    ASSERT_TRUE(spec.ok()) << example << ": " << spec.error().message;
    ASSERT_EQ(spec->archives.size(), 1U) << example;
    ASSERT_EQ(spec->archives[0].downloads.size(), 2U) << example;
    for (const auto& download : spec->archives[0].downloads) {
      EXPECT_EQ(download.sha256.size(), 64U) << example;
      EXPECT_TRUE(download.arch == "amd64" || download.arch == "arm64") << download.arch;
    }
  }
}

}  // namespace
}  // namespace distill::image
