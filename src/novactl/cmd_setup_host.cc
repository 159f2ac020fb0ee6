#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "commands.h"
#include "errors.h"
#include "host_setup.h"
#include "json_output.h"
#include "size.h"
#include "text.h"

namespace nova {

void AddSetupHostCommand(CLI::App& app) {
  struct Options {
    SetupOptions setup;
    bool all = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "setup-host", "Check a host for running many agents, and set up what you ask for");
  cmd->footer(
      "\nWithout an action, only checks and reports: cgroup v2 with the memory and pids\n"
      "controllers, swap (agents never get any: MemorySwapMax=0), kernel limits for\n"
      "many processes, the scratch tmpfs and the workspace pool. Actions are idempotent:\n"
      "a second run finds nothing to do. Nothing is ever lowered or deleted, but for the\n"
      "group's and others' write permission on slots that every member could write.\n\n"
      "The pool holds no slot in advance: each member of group nova makes their own,\n"
      "  mkdir -m 700 /var/nova-agents/pool/ws-001\n"
      "(mkdir fails if the name is taken: pick another), and no other member may write\n"
      "in it, rename it or remove it. Agents run as their member, so theirs can.\n\n"
      "Example:\n  novactl setup-host --all --dry-run\n  sudo novactl setup-host --all");
  cmd->add_flag("--sysctl", o->setup.sysctl,
                "Raise pid_max, inotify and open-file limits (/etc/sysctl.d/60-nova.conf)");
  cmd->add_flag("--scratch", o->setup.scratch,
                "Mount a tmpfs at /var/nova-agents/scratch (a systemd mount unit)");
  cmd->add_option("--scratch-size", o->setup.scratch_size,
                  "Size of the scratch tmpfs, as tmpfs takes it (10%, 8G)")
      ->capture_default_str();
  cmd->add_flag("--workspaces", o->setup.workspaces,
                "Make the workspace pool /var/nova-agents/pool (root:nova, 1770)");
  cmd->add_flag("--all", o->all, "All of the above");
  cmd->add_flag("--dry-run,-n", o->setup.dry_run, "Print what would be done; change nothing");
  cmd->add_flag("--json", o->json, "Print the checks and steps as JSON");
  cmd->callback([o] {
    SetupOptions& s = o->setup;
    std::string size = s.scratch_size;
    bool percent = size.ends_with('%') && size.size() > 1 &&
                   size.find_first_not_of("0123456789") == size.size() - 1;
    if (!percent && !ParseSize(size)) {
      throw Error(ErrorKind::kInvalidArgument,
                  "--scratch-size \"" + Printable(size) +
                      "\": not a size; use a percentage of memory (10%) or a size (8G)");
    }
    if (o->all) s.sysctl = s.scratch = s.workspaces = true;
    bool acting = s.sysctl || s.scratch || s.workspaces;
    if (acting && !s.dry_run && geteuid() != 0) {
      throw Error(ErrorKind::kPermissionDenied,
                  "setup-host changes the host: run it as root, or add --dry-run to see what "
                  "it would do");
    }
    SetupPaths paths;
    HostFacts facts = ReadHostFacts(paths);
    std::vector<Check> checks = HostChecks(facts, s);
    std::vector<Step> steps = PlanSetup(facts, s, paths);
    nlohmann::json done = nlohmann::json::array();
    if (!o->json) {
      std::cout << FormatChecks(checks);
      if (acting && steps.empty()) std::cout << "\nNothing to do: the host is set up as asked.\n";
      if (!steps.empty()) std::cout << "\n";
    }
    for (const Step& step : steps) {
      if (!s.dry_run) step.apply();
      if (o->json) {
        done.push_back({{"step", step.description}, {"applied", !s.dry_run}});
      } else {
        std::cout << (s.dry_run ? "would: " : "done: ") << step.description << "\n";
      }
    }
    if (o->json) {
      std::cout << JsonText(nlohmann::json{{"checks", ChecksToJson(checks)}, {"steps", done}}, 2)
                << std::endl;
    }
  });
}

}  // namespace nova
