// The completion scripts and manual pages generated from the command tree name
// every command, flag and the value lists (flavors, variants, transports).
#include <gtest/gtest.h>

#include "cli/command_table.hpp"
#include "cli/completion.hpp"
#include "cli/man_page.hpp"
#include "cli/option_values.hpp"
#include "util/file_io.hpp"
#include "util/temp_dir.hpp"

namespace distill::cli {
namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

TEST(OptionValuesTest, KnowsWhatEachArgumentTakes) {
  CommandTable table = make_command_table();
  const CLI::App* build = table.app->get_subcommand("build");
  auto values = [&](const CLI::App* command, const std::string& name) {
    return option_values(command->get_name(), *command->get_option(name));
  };
  EXPECT_EQ(values(build, "--variant").words,
            (std::vector<std::string>{"latest", "nonroot", "debug", "debug-nonroot"}));
  EXPECT_EQ(values(build, "--compression").words, (std::vector<std::string>{"gzip", "zstd"}));
  EXPECT_EQ(values(build, "--progress").words, (std::vector<std::string>{"auto", "plain", "none"}));
  EXPECT_EQ(values(build, "--output").kind, ValueKind::Reference);
  EXPECT_EQ(values(build, "--json").kind, ValueKind::None);
  EXPECT_EQ(values(build, "--cache-dir").kind, ValueKind::Directory);
  OptionValues spec = values(build, "SPEC");
  EXPECT_EQ(spec.kind, ValueKind::Spec);
  EXPECT_NE(std::find(spec.words.begin(), spec.words.end(), "java17"), spec.words.end());
  const CLI::App* test = table.app->get_subcommand("test");
  EXPECT_EQ(values(test, "--output").words, (std::vector<std::string>{"text", "json", "junit"}));
  EXPECT_EQ(values(test, "--config").kind, ValueKind::File);
  const CLI::App* run = table.app->get_subcommand("run");
  EXPECT_EQ(values(run, "--network").words, (std::vector<std::string>{"none", "host"}));
  EXPECT_EQ(values(table.app->get_subcommand("inspect"), "REF").words, reference_transports());
  // outdated takes an image, a lock file or a spec: transports, flavors and files.
  const CLI::App* outdated = table.app->get_subcommand("outdated");
  OptionValues subject = values(outdated, "SUBJECT");
  EXPECT_EQ(subject.kind, ValueKind::Spec);
  EXPECT_NE(std::find(subject.words.begin(), subject.words.end(), "oci:"), subject.words.end());
  EXPECT_NE(std::find(subject.words.begin(), subject.words.end(), "cc"), subject.words.end());
  EXPECT_EQ(values(outdated, "--sources").kind, ValueKind::File);
  EXPECT_EQ(values(outdated, "--lock").kind, ValueKind::File);
  EXPECT_EQ(values(outdated, "--exit-code").kind, ValueKind::None);
  const CLI::App* diff = table.app->get_subcommand("diff");
  EXPECT_EQ(values(diff, "A").words, reference_transports());
  EXPECT_EQ(values(diff, "B").words, reference_transports());
  OptionValues platforms = values(diff, "--platform");
  EXPECT_EQ(platforms.kind, ValueKind::Words);
  EXPECT_NE(std::find(platforms.words.begin(), platforms.words.end(), "linux/arm64/v8"),
            platforms.words.end());
}

TEST(CompletionTest, BashScriptCoversCommandsFlagsAndValues) {
  CommandTable table = make_command_table();
  auto script = completion_script(*table.app, "bash");
  ASSERT_TRUE(script.ok());
  for (const auto* part : {"complete -F _distill distill",
                           "_distill_words 'build lock update copy inspect diff run audit sbom "
                           "outdated test prune flavors completion'",
                           "--variant) _distill_words 'latest nonroot debug debug-nonroot' ;;",
                           "--tls-verify", "static base-nossl base cc",
                           "oci: oci-archive: docker-archive: docker://", "--sbom-format"}) {
    EXPECT_TRUE(contains(*script, part)) << part;
  }
  EXPECT_FALSE(contains(*script, "__man"));
}

TEST(CompletionTest, ZshAndFishScriptsCoverTheSameTree) {
  CommandTable table = make_command_table();
  auto zsh = completion_script(*table.app, "zsh");
  ASSERT_TRUE(zsh.ok());
  EXPECT_EQ(zsh->rfind("#compdef distill\n", 0), 0U);
  EXPECT_TRUE(contains(*zsh, "'build:build an image from a spec or a built-in flavor'"));
  EXPECT_TRUE(contains(*zsh, "(latest nonroot debug debug-nonroot)"));
  EXPECT_TRUE(contains(*zsh, "{-o,--output}"));
  EXPECT_FALSE(contains(*zsh, "__man"));
  auto fish = completion_script(*table.app, "fish");
  ASSERT_TRUE(fish.ok());
  EXPECT_TRUE(contains(*fish, "complete -c distill -n __fish_use_subcommand -a inspect"));
  EXPECT_TRUE(contains(*fish,
                       "-n '__fish_seen_subcommand_from build' -l variant -x -a "
                       "'latest nonroot debug debug-nonroot'"));
  EXPECT_TRUE(contains(*fish, "-s o -l output -x -a '(__distill_reference)'"));
  EXPECT_FALSE(contains(*fish, "__man"));
}

TEST(CompletionTest, UnknownShellIsAUsageError) {
  CommandTable table = make_command_table();
  auto script = completion_script(*table.app, "tcsh");
  ASSERT_FALSE(script.ok());
  EXPECT_EQ(script.error().message.rfind("usage: ", 0), 0U);
  EXPECT_TRUE(contains(script.error().message, "tcsh"));
}

TEST(ManPageTest, CommandPageHasSynopsisOptionsAndExamples) {
  CommandTable table = make_command_table();
  std::string page = man_page(*table.app, *table.app->get_subcommand("build"));
  EXPECT_EQ(page.find(".TH DISTILL-BUILD 1 \"\" \"distill 0.1.0\""), page.find(".TH"));
  EXPECT_TRUE(contains(page, ".SH SYNOPSIS\n.B distill build\n"));
  EXPECT_TRUE(contains(page, "\\fB\\-\\-variant\\fR \\fITEXT\\fR"));
  EXPECT_TRUE(contains(page, "\\fB\\-o\\fR, \\fB\\-\\-output\\fR"));
  EXPECT_TRUE(contains(page, ".SH EXAMPLES\n"));
  EXPECT_TRUE(contains(page, "distill build app.yaml \\-\\-variant nonroot"));
  EXPECT_TRUE(contains(page, "\\fBdistill\\-inspect\\fR(1)"));
  EXPECT_TRUE(contains(page, ".SH EXIT STATUS\n0 on success, 1 on failure, 2 on a usage error.\n"));
  // run's status is the container's, with docker's and podman's for a program
  // that does not exist or cannot be run.
  std::string run = man_page(*table.app, *table.app->get_subcommand("run"));
  EXPECT_TRUE(contains(run, ".SH EXIT STATUS\nThe container's own exit status; 127 when"));
  EXPECT_TRUE(contains(run, "126 when it cannot be run"));
  std::string top = man_page(*table.app);
  EXPECT_TRUE(contains(top, ".TH DISTILL 1"));
  EXPECT_TRUE(contains(top, "\\fBdistill sbom\\fR"));
  EXPECT_FALSE(contains(top, "distill __man\\fR"));
  EXPECT_FALSE(contains(top, "distill\\-__man"));
}

TEST(ManPageTest, WritesOnePagePerVisibleCommand) {
  auto dir = util::TempDir::create();
  ASSERT_TRUE(dir.ok());
  CommandTable table = make_command_table();
  ASSERT_TRUE(write_man_pages(*table.app, dir->path() / "man1").ok());
  size_t pages = 0;
  for (const auto& entry : std::filesystem::directory_iterator(dir->path() / "man1")) {
    ++pages;
    auto text = util::read_file(entry.path());
    ASSERT_TRUE(text.ok());
    EXPECT_EQ(text->rfind(".\\\" Generated by", 0), 0U) << entry.path();
  }
  EXPECT_EQ(pages, visible_subcommands(*table.app).size() + 1);
  EXPECT_TRUE(std::filesystem::exists(dir->path() / "man1" / "distill-completion.1"));
  EXPECT_FALSE(std::filesystem::exists(dir->path() / "man1" / "distill-__man.1"));
}

}  // namespace
}  // namespace distill::cli
