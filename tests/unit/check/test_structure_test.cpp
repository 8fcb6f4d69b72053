// Structure tests: config parsing (errors with lines), each test kind passing and
// failing with "expected ..., found ..." messages, command tests through a fake
// executor and, when root and runc are available, through runc with busybox.
#include <gtest/gtest.h>
#include <unistd.h>

#include <nlohmann/json.hpp>

#include "../support/python.hpp"
#include "check/structure_test.hpp"
#include "runtime/runner.hpp"
#include "test_image.hpp"
#include "util/file_io.hpp"
#include "util/subprocess.hpp"
#include "util/temp_dir.hpp"

namespace distill::check {
namespace {

namespace fs = std::filesystem;
using namespace testing;  // NOLINT

class FakeExecutor final : public CommandExecutor {
 public:
  Result<ExecResult> exec(const ExecRequest& request) override {
    calls.push_back(request);
    std::string joined;
    for (const auto& arg : request.argv) {
      joined += (joined.empty() ? "" : " ") + arg;
    }
    if (joined == "touch /marker") {
      marker = true;
      return ExecResult{0, "", ""};
    }
    if (joined == "rm /marker") {
      marker = false;
      return ExecResult{0, "", ""};
    }
    if (joined == "cat /marker") {
      return marker ? ExecResult{0, "marker here\n", ""} : ExecResult{1, "", "no marker\n"};
    }
    if (!request.argv.empty() && request.argv[0] == "echo-args") {
      std::string out;
      for (size_t i = 1; i < request.argv.size(); ++i) {
        out += (i > 1 ? " " : "") + request.argv[i];
      }
      return ExecResult{0, out, ""};
    }
    if (joined == "missing") {
      return make_error(ErrorKind::Io, "runc could not start the container: no such file");
    }
    if (joined == "env") {
      std::string out;
      for (const auto& kv : request.env) {
        out += kv + "\n";
      }
      return ExecResult{0, out, ""};
    }
    return ExecResult{3, "some output\n", "an error\n"};
  }
  Status reset() override {
    ++resets;
    marker = false;
    return {};
  }
  std::vector<ExecRequest> calls;
  bool marker = false;
  int resets = 0;
};

class StructureTest : public ::testing::Test {
 protected:
  void SetUp() override {
    m_dir = std::make_unique<util::TempDir>(*util::TempDir::create());
    std::vector<Entry> layer = base_layer();
    layer.push_back(dir("usr/bin"));
    layer.push_back(file("usr/bin/tool", "#!tool", 0750));
    layer.push_back(symlink("usr/bin/alias", "tool"));
    write_layer(m_dir->path() / "l.tar.gz", layer);
    auto view = ImageView::load({m_dir->path() / "l.tar.gz"}, "test");
    ASSERT_TRUE(view.ok());
    m_view = std::make_unique<ImageView>(std::move(*view));
    m_config = base_config();
    m_config.labels["org.opencontainers.image.source"] = "https://example.org/app";
    m_config.exposed_ports = {"8080/tcp"};
    m_config.volumes = {"/data"};
  }

  TestReport run(const std::string& yaml, CommandExecutor* executor = nullptr) {
    auto config = parse_structure_test(yaml, "test.yaml");
    EXPECT_TRUE(config.ok()) << (config.ok() ? "" : config.error().message);
    return run_structure_tests(*config, *m_view, m_config, executor);
  }

  std::unique_ptr<util::TempDir> m_dir;
  std::unique_ptr<ImageView> m_view;
  oci::ImageConfig m_config;
};

TEST(StructureTestParse, ErrorsNameFileLineAndKey) {
  auto bad = parse_structure_test(
      "schemaVersion: 2.0.0\nfileExistenceTests:\n  - name: x\n    pathh: /etc\n"
      "    uid: notanumber\n",
      "cfg.yaml");
  ASSERT_FALSE(bad.ok());
  const std::string& message = bad.error().message;
  EXPECT_NE(message.find("cfg.yaml:4: fileExistenceTests: unknown key \"pathh\""),
            std::string::npos)
      << message;
  EXPECT_NE(message.find("cfg.yaml:5: fileExistenceTests.uid"), std::string::npos) << message;

  auto version = parse_structure_test("schemaVersion: 3.0.0\n", "v.yaml");
  ASSERT_FALSE(version.ok());
  EXPECT_EQ(version.error().message,
            "v.yaml:1: schemaVersion: expected \"1.0.0\" or \"2.0.0\", found \"3.0.0\"");
  auto missing = parse_structure_test("fileExistenceTests: []\n", "m.yaml");
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(missing.error().message.find("schemaVersion: missing"), std::string::npos);

  auto syntax = parse_structure_test("schemaVersion: [\n", "broken.yaml");
  ASSERT_FALSE(syntax.ok());
  EXPECT_EQ(syntax.error().message.rfind("broken.yaml:", 0), 0U);
}

// What the file content and license tests read is kept as the view is folded.
TEST(StructureTestReads, ContentAndLicenseFilesOnly) {
  auto with_licenses = parse_structure_test(
      "schemaVersion: 2.0.0\nfileContentTests:\n  - name: passwd\n    path: /etc/passwd\n"
      "    expectedContents: ['root']\nlicenseTests:\n  - debian: true\n"
      "    files: ['/opt/app/LICENSE']\n",
      "a.yaml");
  auto without = parse_structure_test(
      "schemaVersion: 2.0.0\nfileContentTests:\n  - name: group\n    path: /etc/group\n"
      "    expectedContents: ['root']\n",
      "b.yaml");
  ASSERT_TRUE(with_licenses.ok()) << with_licenses.error().message;
  ASSERT_TRUE(without.ok()) << without.error().message;
  auto both = structure_test_reads({*with_licenses, *without});
  for (const char* yes :
       {"etc/passwd", "etc/group", "opt/app/LICENSE", "usr/share/doc/libc6/copyright"}) {
    EXPECT_TRUE(both(yes)) << yes;
  }
  for (const char* no : {"etc/shadow", "usr/share/doc/libc6/changelog.gz", "opt/app"}) {
    EXPECT_FALSE(both(no)) << no;
  }
  auto no_licenses = structure_test_reads({*without});
  EXPECT_TRUE(no_licenses("etc/group"));
  EXPECT_FALSE(no_licenses("usr/share/doc/libc6/copyright"));
  EXPECT_FALSE(structure_test_reads({})("etc/passwd"));
}

// distroless's own v1 configs (base/testdata/base.yaml, python3.yaml): list-form
// commands, no uid/gid/metadataTest.
TEST(StructureTestParse, SchemaV1WithListCommands) {
  auto config = parse_structure_test(R"yaml(schemaVersion: "1.0.0"
fileExistenceTests:
- name: root
  path: '/'
  shouldExist: true
- name: passwd
  path: '/etc/passwd'
  permissions: '-rw-r--r--'
commandTests:
  - name: hello
    command: ["/usr/bin/python3", "-c", "print('Hello World')"]
    expectedOutput: ['Hello World']
  - name: print_utf8
    command: ["/usr/bin/python3", "-c", "print(u'h\\xe9llo.txt')"]
    setup: [["touch", "/x"]]
    teardown: [["rm", "/x"]]
    envVars: [{key: A, value: b}]
    exitCode: 0
    expectedOutput: ['h\xe9llo']
licenseTests:
  - debian: true
)yaml",
                                     "v1.yaml");
  ASSERT_TRUE(config.ok()) << config.error().message;
  EXPECT_EQ(config->schema_version, 1);
  ASSERT_EQ(config->command_tests.size(), 2U);
  EXPECT_EQ(config->command_tests[0].command,
            (std::vector<std::string>{"/usr/bin/python3", "-c", "print('Hello World')"}));
  EXPECT_EQ(config->command_tests[1].command[2], "print(u'h\\xe9llo.txt')");
  EXPECT_EQ(config->command_tests[1].expected_output[0], "h\\xe9llo");  // a regex escape
  EXPECT_EQ(config->command_tests[1].setup.size(), 1U);
  EXPECT_EQ(config->file_existence_tests[1].permissions, "-rw-r--r--");
  EXPECT_EQ(config->file_existence_tests[1].uid, -1);

  // Keys v1 does not have are refused, as CST's strict decoding does.
  for (const char* extra : {"metadataTest: {user: root}\n", "containerRunOptions: {user: root}\n",
                            "commandTests: [{name: a, command: [ls], args: [x]}]\n",
                            "fileExistenceTests: [{name: a, path: /, uid: 0}]\n"}) {
    auto refused = parse_structure_test(std::string("schemaVersion: 1.0.0\n") + extra, "x.yaml");
    EXPECT_FALSE(refused.ok()) << extra;
    if (!refused.ok()) {
      EXPECT_NE(refused.error().message.find("unknown key"), std::string::npos)
          << refused.error().message;
    }
  }
  // Both command forms in v2 too: a string plus args, or a list.
  auto v2 = parse_structure_test(
      "schemaVersion: 2.0.0\ncommandTests:\n  - {name: s, command: /bin/ls, args: [-l]}\n"
      "  - {name: l, command: [/bin/ls, -a], args: [-l]}\n",
      "v2.yaml");
  ASSERT_TRUE(v2.ok()) << v2.error().message;
  EXPECT_EQ(v2->command_tests[0].command, (std::vector<std::string>{"/bin/ls"}));
  EXPECT_EQ(v2->command_tests[1].command, (std::vector<std::string>{"/bin/ls", "-a"}));
  auto mapping = parse_structure_test(
      "schemaVersion: 2.0.0\ncommandTests:\n  - {name: m, command: {a: b}}\n", "m.yaml");
  ASSERT_FALSE(mapping.ok());
  EXPECT_NE(mapping.error().message.find("m.yaml:3: commandTests.command: expected a string or "
                                         "a list of strings"),
            std::string::npos)
      << mapping.error().message;
}

TEST_F(StructureTest, FileExistencePassesAndFailsWithExpectedAndFound) {
  TestReport report = run(R"(schemaVersion: 2.0.0
fileExistenceTests:
  - {name: passwd, path: /etc/passwd, shouldExist: true, permissions: "-rw-r--r--", uid: 0, gid: 0}
  - {name: tmp, path: /tmp, permissions: "dtrwxrwxrwx"}
  - {name: home, path: /home/nonroot, permissions: "drwx------", uid: 65532, gid: 65532}
  - {name: link, path: /etc/os-release, permissions: "Lrwxrwxrwx"}
  - {name: exec, path: /usr/bin/tool, isExecutableBy: group}
  - {name: no-sh, path: /bin/sh, shouldExist: false}
  - {name: wrong-mode, path: /etc/group, permissions: "-rwxr-xr-x", uid: 1}
  - {name: missing, path: /etc/missing}
  - {name: not-other-exec, path: /usr/bin/tool, isExecutableBy: other}
  - {name: present, path: /etc/passwd, shouldExist: false}
)");
  ASSERT_EQ(report.results.size(), 10U);
  for (size_t i = 0; i < 6; ++i) {
    EXPECT_TRUE(report.results[i].passed)
        << report.results[i].name << ": " << report.results[i].errors.front();
  }
  EXPECT_EQ(report.failures(), 4U);
  const auto& wrong = report.results[6].errors;
  ASSERT_EQ(wrong.size(), 2U);
  EXPECT_EQ(wrong[0], "/etc/group: expected permissions -rwxr-xr-x, found -rw-r--r--");
  EXPECT_EQ(wrong[1], "/etc/group: expected uid 1, found 0");
  EXPECT_EQ(report.results[7].errors[0], "expected /etc/missing to exist, found nothing");
  EXPECT_NE(report.results[8].errors[0].find("found permissions -rwxr-x---"), std::string::npos);
  EXPECT_NE(report.results[9].errors[0].find("not to exist"), std::string::npos);
}

TEST_F(StructureTest, FileContentRegexes) {
  TestReport report = run(R"(schemaVersion: "2.0.0"
fileContentTests:
  - name: passwd
    path: /etc/passwd
    expectedContents: ['root:x:0:0:root:/root:/sbin/nologin', '(?m)^nonroot:x:65532:65532:']
    excludedContents: ['bash']
  - name: os-release through its link
    path: /etc/os-release
    expectedContents: ['VERSION_ID="12"', '(?i)id="DEBIAN"']
  - name: failing
    path: /etc/group
    expectedContents: ['^wheel:']
    excludedContents: ['nonroot']
)");
  ASSERT_EQ(report.results.size(), 3U);
  EXPECT_TRUE(report.results[0].passed) << report.results[0].errors.front();
  EXPECT_TRUE(report.results[1].passed) << report.results[1].errors.front();
  ASSERT_EQ(report.results[2].errors.size(), 2U);
  EXPECT_NE(
      report.results[2].errors[0].find("expected contents of /etc/group to match \"^wheel:\""),
      std::string::npos);
  EXPECT_NE(report.results[2].errors[1].find("not to match \"nonroot\", found \"nonroot\""),
            std::string::npos);
}

TEST_F(StructureTest, MetadataOmittedListsAreUncheckedEmptyListsMustBeEmpty) {
  TestReport pass = run(R"(schemaVersion: 2.0.0
metadataTest:
  envVars:
    - {key: PATH, value: /usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin}
    - {key: SSL_CERT_FILE, value: 'ca-certificates\.crt$', isRegex: true}
  unboundEnvVars: [{key: LANG}]
  labels: [{key: org.opencontainers.image.source, value: 'https://.*', isRegex: true}]
  exposedPorts: ["8080"]
  unexposedPorts: ["22"]
  volumes: [/data]
  unmountedVolumes: [/tmp]
  entrypoint: []
  workdir: /home/nonroot
  user: "65532"
)");
  ASSERT_EQ(pass.results.size(), 1U);
  EXPECT_TRUE(pass.passed()) << pass.results[0].errors.front();

  m_config.entrypoint = std::vector<std::string>{"/app"};
  TestReport fail = run(R"(schemaVersion: 2.0.0
metadataTest:
  envVars: [{key: LANG, value: C.UTF-8}]
  entrypoint: []
  cmd: ["--serve"]
  user: root
  exposedPorts: ["9090"]
)");
  ASSERT_EQ(fail.results.size(), 1U);
  std::vector<std::string> expected{
      "expected env var LANG=\"C.UTF-8\", found it unset",
      "expected cmd [\"--serve\"], found []",
      "expected entrypoint [], found [\"/app\"]",
      "expected user \"root\", found \"65532\"",
      "expected port 9090 to be exposed, found [\"8080\"]",
  };
  EXPECT_EQ(fail.results[0].errors, expected);
  // entrypoint omitted or null, workdir and user "": not checked.
  EXPECT_TRUE(run("schemaVersion: 2.0.0\nmetadataTest:\n  workdir: /home/nonroot\n").passed());
  EXPECT_TRUE(run("schemaVersion: 2.0.0\nmetadataTest:\n  entrypoint:\n  workdir: \"\"\n"
                  "  user: \"\"\n  cmd: []\n")
                  .passed());
  // CST compares port numbers: "8080/tcp" is not among them.
  TestReport proto = run("schemaVersion: 2.0.0\nmetadataTest:\n  exposedPorts: [\"8080/tcp\"]\n");
  EXPECT_FALSE(proto.passed());
  // An empty metadataTest is no test at all (and a run without tests fails).
  TestReport empty = run("schemaVersion: 2.0.0\nmetadataTest: {}\n");
  EXPECT_TRUE(empty.results.empty());
  EXPECT_FALSE(empty.passed());
  EXPECT_NE(report_text(empty).find("no test ran\nFAIL\n"), std::string::npos);
}

TEST_F(StructureTest, LicenseTestFailsOnAgplInAnyCaseAndOnMissingCopyright) {
  std::vector<Entry> good = base_layer();
  good.push_back(dir("usr/share/doc/fine"));
  good.push_back(file("usr/share/doc/fine/copyright", "License: MIT\n"));
  good.push_back(symlink("usr/share/doc/linked", "fine"));  // not a directory: skipped
  good.push_back(dir("usr/share/doc/libgnutls30"));         // exempt in CST
  write_layer(m_dir->path() / "good.tar.gz", good);
  m_view = std::make_unique<ImageView>(*ImageView::load({m_dir->path() / "good.tar.gz"}, "test"));
  TestReport passing = run("schemaVersion: 2.0.0\nlicenseTests:\n  - debian: true\n");
  EXPECT_TRUE(passing.passed()) << passing.results[0].errors.front();

  std::vector<Entry> layer = good;
  layer.push_back(dir("usr/share/doc/evil"));
  layer.push_back(file("usr/share/doc/evil/copyright", "License: agpl-3+\n"));
  layer.push_back(dir("usr/share/doc/bare"));
  layer.push_back(file("usr/share/doc/COPYING.wtfpl", "Do What The Fuck You Want: WtfPL\n"));
  write_layer(m_dir->path() / "agpl.tar.gz", layer);
  m_view = std::make_unique<ImageView>(*ImageView::load({m_dir->path() / "agpl.tar.gz"}, "test"));
  TestReport report =
      run("schemaVersion: 2.0.0\nlicenseTests:\n  - debian: true\n"
          "    files: [/usr/share/doc/COPYING.wtfpl, /usr/share/doc/none]\n");
  ASSERT_FALSE(report.passed());
  EXPECT_EQ(report.results[0].errors,
            (std::vector<std::string>{
                "expected /usr/share/doc/bare/copyright to exist, found nothing",
                "expected no AGPL license, found AGPL in /usr/share/doc/evil/copyright",
                "expected no WTFPL license, found WTFPL in /usr/share/doc/COPYING.wtfpl",
                "expected license file /usr/share/doc/none to be a readable file, found nothing",
            }));
}

TEST_F(StructureTest, CommandTestsWithSetupEnvAndRegexes) {
  FakeExecutor executor;
  TestReport report = run(R"(schemaVersion: 2.0.0
globalEnvVars: [{key: GLOBAL, value: "1"}]
commandTests:
  - name: setup persists
    setup: [["touch", "/marker"]]
    command: cat
    args: [/marker]
    expectedOutput: ["marker"]
    teardown: [["rm", "/marker"]]
  - name: env
    envVars: [{key: LOCAL, value: two}]
    command: env
    expectedOutput: ["GLOBAL=1", "LOCAL=two"]
  - name: failing
    command: crash
    exitCode: 0
    expectedOutput: ["wanted"]
    excludedError: ["error"]
  - name: exit code
    command: crash
    exitCode: 3
    expectedError: ["an error"]
    excludedOutput: ["absent"]
)",
                          &executor);
  ASSERT_EQ(report.results.size(), 4U);
  EXPECT_TRUE(report.results[0].passed) << report.results[0].errors.front();
  EXPECT_TRUE(report.results[1].passed) << report.results[1].errors.front();
  EXPECT_TRUE(report.results[3].passed) << report.results[3].errors.front();
  const auto& errors = report.results[2].errors;
  ASSERT_EQ(errors.size(), 3U);
  EXPECT_EQ(errors[0].rfind("expected exit code 0, found 3", 0), 0U);
  EXPECT_NE(errors[1].find("expected stdout to match \"wanted\", found \"some output\\n\""),
            std::string::npos);
  EXPECT_NE(errors[2].find("expected stderr not to match \"error\""), std::string::npos);
  // A fresh container for every test.
  EXPECT_GE(executor.resets, 4);
  EXPECT_EQ(executor.calls.front().argv, (std::vector<std::string>{"touch", "/marker"}));
  EXPECT_EQ(report.results[0].name, "Command Test: setup persists");
}

// CST's docker driver: $VAR in argv from the image's env plus globalEnvVars (and
// the test's envVars once a setup container committed them), env values expanded
// when applied to the image but passed as given to the command, a setup's exit
// status ignored.
TEST_F(StructureTest, CommandArgvAndEnvAreExpandedAsCstDoes) {
  FakeExecutor executor;
  TestReport report = run(R"(schemaVersion: 2.0.0
globalEnvVars: [{key: GLOBAL, value: "$SSL_CERT_FILE.g"}]
commandTests:
  - name: argv
    command: echo-args
    args: ["$SSL_CERT_FILE", "${GLOBAL}", "$LOCAL", "$$", "a$"]
    envVars: [{key: LOCAL, value: "$GLOBAL"}]
    expectedOutput: ['\A/etc/ssl/certs/ca-certificates\.crt /etc/ssl/certs/ca-certificates\.crt\.g   a\$\z']
  - name: env
    command: env
    envVars: [{key: LOCAL, value: "$GLOBAL"}]
    expectedOutput: ['(?m)^GLOBAL=/etc/ssl/certs/ca-certificates\.crt\.g$', '(?m)^LOCAL=\$GLOBAL$']
  - name: with setup
    setup: [["false"]]
    command: echo-args
    args: ["$LOCAL"]
    envVars: [{key: LOCAL, value: "x$GLOBAL"}]
    expectedOutput: ['^x/etc/ssl/certs/ca-certificates\.crt\.g$']
  - name: setup cannot start
    setup: [["missing"], ["touch", "/marker"]]
    command: env
)",
                          &executor);
  ASSERT_EQ(report.results.size(), 4U);
  for (size_t i = 0; i < 3; ++i) {
    EXPECT_TRUE(report.results[i].passed)
        << report.results[i].name << ": " << report.results[i].errors.front();
  }
  ASSERT_FALSE(report.results[3].passed);
  EXPECT_EQ(report.results[3].errors,
            std::vector<std::string>{"setup command \"missing\": expected to run, found: runc "
                                     "could not start the container: no such file"});
  // The setup container saw the expanded envVars; the next setup never ran.
  auto setup = std::find_if(executor.calls.begin(), executor.calls.end(),
                            [](const ExecRequest& r) { return r.argv.front() == "false"; });
  ASSERT_NE(setup, executor.calls.end());
  EXPECT_EQ(setup->env, (std::vector<std::string>{"GLOBAL=/etc/ssl/certs/ca-certificates.crt.g",
                                                  "LOCAL=x/etc/ssl/certs/ca-certificates.crt.g"}));
  EXPECT_FALSE(executor.marker);
}

// v1: globalEnvVars reach the command only through setup containers; a test CST
// finds invalid is skipped (with a note), not failed.
TEST_F(StructureTest, SchemaV1CommandTestsAndSkippedInvalidOnes) {
  FakeExecutor executor;
  TestReport report = run(R"(schemaVersion: 1.0.0
globalEnvVars: [{key: GLOBAL, value: g}]
commandTests:
  - name: no setup
    command: [env]
    envVars: [{key: LOCAL, value: l}]
    expectedOutput: ['LOCAL=l']
    excludedOutput: ['GLOBAL']
  - name: setup
    setup: [[touch, /marker]]
    command: [cat, /marker]
    expectedOutput: ['marker here']
  - name: setup env
    setup: [[touch, /marker]]
    command: ["env"]
    expectedOutput: ['GLOBAL=g']
  - command: [env]
fileExistenceTests:
  - {path: /etc/passwd}
  - {name: passwd, path: /etc/passwd}
)",
                          &executor);
  ASSERT_EQ(report.results.size(), 4U);
  EXPECT_TRUE(report.passed()) << report_text(report);
  ASSERT_EQ(report.notes.size(), 2U);
  EXPECT_EQ(report.notes[0],
            "test.yaml: skipped Command Test without a name (schemaVersion 1.0.0): expected a "
            "valid test, found: missing name");
}

// v2: what CST's Validate() refuses is a failed test, the others still run.
TEST_F(StructureTest, SchemaV2InvalidTestsFail) {
  FakeExecutor executor;
  TestReport report = run(R"(schemaVersion: 2.0.0
commandTests:
  - command: env
  - name: no command
  - name: empty setup
    command: env
    setup: [[]]
  - name: empty env value
    command: env
    envVars: [{key: A, value: ""}]
fileExistenceTests:
  - {path: /etc/passwd}
  - {name: bad isExecutableBy, path: /etc/passwd, isExecutableBy: everyone}
  - {name: absent, path: /nope, shouldExist: false, isExecutableBy: everyone}
fileContentTests:
  - {name: no path}
metadataTest:
  envVars: [{key: "", value: x}]
)",
                          &executor);
  ASSERT_EQ(report.results.size(), 9U);
  EXPECT_EQ(report.failures(), 8U);
  EXPECT_TRUE(report.results[7].passed) << report.results[7].name;  // absent: not checked
  EXPECT_EQ(report.results[0].errors.front(), "expected a valid test, found: missing name");
  EXPECT_EQ(report.results[1].errors.front(), "expected a valid test, found: missing command");
  EXPECT_EQ(report.results[2].errors.front(),
            "expected a valid test, found: an empty setup command");
  EXPECT_EQ(report.results[4].name, "File Content Test: no path");
  EXPECT_EQ(report.results[6].errors.front(),
            "isExecutableBy: expected owner, group, other or any, found \"everyone\"");
  EXPECT_EQ(report.results[8].name, "Metadata Test");
  EXPECT_TRUE(executor.calls.empty());
}

// The issue's case: Go's \A is an anchor, so this excludedContents test fails (it
// passed when \A was taken as the letter A).
TEST_F(StructureTest, GoRegexSemanticsInContentTestsAndPathExpansion) {
  TestReport report = run(R"(schemaVersion: 2.0.0
globalEnvVars: [{key: DOCS, value: /usr/share/doc}]
fileContentTests:
  - name: anchored exclusion
    path: /etc/passwd
    excludedContents: ['\Aroot:']
  - name: go syntax
    path: /etc/passwd
    expectedContents: ['\pL+:x:0:', '(?s)root.*nonroot', 'nologin\n\z']
    excludedContents: ['nologin\z', '(?i)BASH']
  - name: invalid regex fails
    path: /etc/passwd
    excludedContents: ['\Z']
fileExistenceTests:
  - {name: expanded, path: "$DOCS/libfoo1/copyright"}
)");
  ASSERT_EQ(report.results.size(), 4U);
  EXPECT_FALSE(report.results[0].passed);
  EXPECT_NE(report.results[0].errors.front().find("not to match \"\\\\Aroot:\", found \"root:\""),
            std::string::npos)
      << report.results[0].errors.front();
  EXPECT_TRUE(report.results[1].passed) << report.results[1].errors.front();
  EXPECT_FALSE(report.results[2].passed);
  EXPECT_NE(report.results[2].errors.front().find("invalid escape sequence: \\Z"),
            std::string::npos);
  EXPECT_TRUE(report.results[3].passed) << report.results[3].errors.front();
}

TEST_F(StructureTest, ReportsInThreeFormats) {
  TestReport report = run(R"(schemaVersion: 2.0.0
fileExistenceTests:
  - {name: ok, path: /etc/passwd}
  - {name: "bad <one>", path: /nope}
)");
  std::string text = report_text(report);
  EXPECT_NE(text.find("=== RUN: File Existence Test: ok\n--- PASS"), std::string::npos);
  EXPECT_NE(text.find("Error: expected /nope to exist, found nothing"), std::string::npos);
  EXPECT_NE(text.find("Passes:      1\nFailures:    1"), std::string::npos);

  auto json = nlohmann::json::parse(report_json(report));
  EXPECT_EQ(json["Pass"], 1);
  EXPECT_EQ(json["Fail"], 1);
  EXPECT_EQ(json["Total"], 2);
  EXPECT_EQ(json["Results"][1]["Errors"][0], "expected /nope to exist, found nothing");

  std::string junit = report_junit(report);
  EXPECT_NE(junit.find("<testsuites failures=\"1\" tests=\"2\""), std::string::npos);
  EXPECT_NE(junit.find("name=\"File Existence Test: bad &lt;one&gt;\""), std::string::npos);
  EXPECT_NE(junit.find("<failure message=\"expected /nope to exist, found nothing\">"),
            std::string::npos);
  auto parsed = util::run_command(
      {{test::system_python().string(), "-c",
        "import sys, xml.dom.minidom; xml.dom.minidom.parseString(sys.stdin.read())"},
       junit});
  ASSERT_TRUE(parsed.ok());
  EXPECT_EQ(parsed->exit_code, 0) << parsed->stderr_data;
}

// Real containers: the host's static busybox in an image, run through runc, on an
// overlay view and on a copy of the unpacked image.
template <class Base>
class WithBusyboxImage : public Base {
 protected:
  void SetUp() override {
    if (::geteuid() != 0 || runtime::find_oci_runtime().empty() || !fs::exists("/bin/busybox")) {
      GTEST_SKIP() << "needs root, runc and /bin/busybox";
    }
    auto busybox = util::read_file("/bin/busybox");
    ASSERT_TRUE(busybox.ok());
    this->m_dir = std::make_unique<util::TempDir>(*util::TempDir::create());
    std::vector<Entry> layer = base_layer();
    layer.push_back(dir("bin"));
    layer.push_back(file("bin/busybox", *busybox, 0755));
    m_blob = m_dir->path() / "busybox.tar.gz";
    write_layer(m_blob, layer);
    m_config = base_config();
    m_config.entrypoint = std::vector<std::string>{"/bin/busybox"};
  }
  std::unique_ptr<util::TempDir> m_dir;
  fs::path m_blob;
  oci::ImageConfig m_config;
};

class BundleExecutorTest
    : public WithBusyboxImage<::testing::TestWithParam<BundleExecutor::Method>> {};
class BundleExecutorFallbackTest : public WithBusyboxImage<::testing::Test> {};

TEST_P(BundleExecutorTest, CapturesOutputAndGivesEachContainerAFreshRoot) {
  BundleExecutor executor({m_blob}, m_config, util::quiet_progress(), GetParam());
  auto result =
      executor.exec({{"/bin/busybox", "sh", "-c", "echo out; echo err >&2; exit 3"}, {"X=1"}, ""});
  ASSERT_TRUE(result.ok()) << result.error().message;
  EXPECT_EQ(executor.method(), GetParam());
  EXPECT_EQ(result->exit_code, 3);
  EXPECT_EQ(result->stdout_data, "out\n");
  EXPECT_EQ(result->stderr_data, "err\n");

  // Changes persist until reset(), then the next container starts from the image.
  for (int round = 0; round < 2; ++round) {
    ASSERT_TRUE(executor.exec({{"/bin/busybox", "touch", "/tmp/mark"}, {}, "0"}).ok());
    ASSERT_TRUE(executor.exec({{"/bin/busybox", "rm", "/etc/group"}, {}, "0"}).ok());
    const std::vector<std::string> list{"/bin/busybox", "sh", "-c", "ls /tmp; ls /etc"};
    auto seen = executor.exec({list, {}, ""});
    ASSERT_TRUE(seen.ok());
    EXPECT_EQ(seen->stdout_data, "mark\nos-release\npasswd\n");
    ASSERT_TRUE(executor.reset().ok());
    auto fresh = executor.exec({list, {}, ""});
    ASSERT_TRUE(fresh.ok());
    EXPECT_EQ(fresh->stdout_data, "group\nos-release\npasswd\n");
    auto id = executor.exec({{"/bin/busybox", "id", "-u"}, {}, ""});
    ASSERT_TRUE(id.ok());
    EXPECT_EQ(id->stdout_data, "65532\n");
    ASSERT_TRUE(executor.reset().ok());
  }
  // A program that does not exist cannot start: an error, not an exit status.
  auto missing = executor.exec({{"/no/such/program"}, {}, ""});
  EXPECT_FALSE(missing.ok());
}

INSTANTIATE_TEST_SUITE_P(Views, BundleExecutorTest,
                         ::testing::Values(BundleExecutor::Method::Overlay,
                                           BundleExecutor::Method::Copy),
                         [](const auto& test_info) {
                           return test_info.param == BundleExecutor::Method::Overlay ? "Overlay"
                                                                                     : "Copy";
                         });

// Where the kernel refuses the overlay (here: TMPDIR holds a ',' that overlayfs
// options cannot carry), the executor copies instead and says so once.
TEST_F(BundleExecutorFallbackTest, CopiesWhenTheOverlayIsRefused) {
  const fs::path odd = m_dir->path() / "tmp,dir";
  fs::create_directory(odd);
  const char* old = std::getenv("TMPDIR");
  const std::string saved = old == nullptr ? "" : old;
  ::setenv("TMPDIR", odd.c_str(), 1);
  {
    BundleExecutor executor({m_blob}, m_config);
    auto result = executor.exec({{"/bin/busybox", "true"}, {}, ""});
    ASSERT_TRUE(result.ok()) << result.error().message;
    EXPECT_EQ(result->exit_code, 0);
    EXPECT_EQ(executor.method(), BundleExecutor::Method::Copy);
  }
  if (old == nullptr) {
    ::unsetenv("TMPDIR");
  } else {
    ::setenv("TMPDIR", saved.c_str(), 1);
  }
  EXPECT_TRUE(fs::is_empty(odd));  // nothing left behind
}

}  // namespace
}  // namespace distill::check
