#include <unistd.h>

#include <iostream>
#include <nlohmann/json.hpp>

#include "build_config.h"
#include "commands.h"
#include "config.h"
#include "json_output.h"
#include "memory_report.h"
#include "nova_bus.h"
#include "nova_client.h"

namespace nova {

void AddRelieveCommand(CLI::App& app) {
  struct Options {
    std::optional<double> target;
    bool dry_run = false;
    bool json = false;
  };
  auto o = std::make_shared<Options>();
  CLI::App* cmd = app.add_subcommand(
      "relieve", "Kill agents, largest first, until host memory is below a target");
  cmd->footer(
      "\nEmergency relief on demand (root only), done by novad exactly as its watcher\n"
      "does at ReliefPercent: whole agents are killed (every process at once), the\n"
      "largest memory.current first, one at a time, each confirmed gone before the\n"
      "next, until host memory used (MemTotal - MemAvailable) is below the target.\n"
      "Every decision is in the journal: novactl events.\n\n"
      "  novactl relieve --target 75 --dry-run   # what would die\n"
      "  novactl relieve --target 75");
  cmd->add_option("--target,-t", o->target,
                  "Host memory used to get below, percent (default: ReliefTargetPercent)");
  cmd->add_flag("--dry-run,-n", o->dry_run, "Only report which agents would be killed");
  cmd->add_flag("--json", o->json, "Print JSON instead of text");
  cmd->callback([o] {
    double target = o->target ? *o->target : LoadConfig(kConfigPath).relief_target_percent;
    ValidateReliefTarget(target);
    NovaClient client;
    if (!o->json && isatty(STDERR_FILENO)) {  // errors stay one line in scripts
      std::cerr << (o->dry_run ? "Planning" : "Running") << " relief to below " << target
                << "% host memory..." << std::endl;
    }
    ReliefReport report = client.Relieve(target, o->dry_run);
    if (o->json) {
      std::cout << JsonText(ReliefToJson(report), 2) << std::endl;
    } else {
      std::cout << FormatRelief(report);
    }
  });
}

}  // namespace nova
