// novactl: the command line for Nova. The one place where errors become
// messages and exit codes: every failure is a single line on stderr.
#include <CLI/CLI.hpp>
#include <iostream>

#include "build_config.h"
#include "commands.h"
#include "errors.h"
#include "text.h"

namespace {

// Errors echo what the caller gave, and those from CLI11 or novad may not have
// been escaped where they were made: whatever is left of control characters
// is escaped here, so an error is always one line and never a control code.
std::string OneLine(const char* message) {
  return nova::FindControl(message) ? nova::Printable(message) : std::string(message);
}

}  // namespace

int main(int argc, char** argv) {
  CLI::App app{
      "novactl - run coding agents in their own systemd units, with hard memory limits.\n"
      "Each agent is nova-agent-NAME.service in nova-agents.slice; systemctl and\n"
      "journalctl work on it as on any unit."};
  app.name("novactl");
  app.set_version_flag("--version", std::string("novactl ") + nova::kVersion);
  app.require_subcommand(1);
  app.footer(std::string("\n") + nova::kExitCodeHelp +
             "\nSee novactl(1) and /etc/nova/nova.conf for the defaults.");
  nova::AddSpawnCommand(app);
  nova::AddRunCommand(app);
  nova::AddKillCommand(app);
  nova::AddExecCommand(app);
  nova::AddStatusCommand(app);
  nova::AddLogsCommand(app);
  nova::AddWatchCommand(app);
  nova::AddEventsCommand(app);
  nova::AddRelieveCommand(app);
  nova::AddSetupHostCommand(app);
  nova::AddDoctorCommand(app);

  try {
    app.parse(argc, argv);
    return 0;
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForVersion& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::cerr << "novactl: " << OneLine(e.what()) << "; see novactl --help" << std::endl;
    return nova::ExitCodeFor(nova::ErrorKind::kInvalidArgument);
  } catch (const nova::ExitWith& e) {
    return e.code;
  } catch (const nova::Error& e) {
    std::cerr << "novactl: " << OneLine(e.what()) << std::endl;
    return nova::ExitCodeFor(e.kind());
  } catch (const std::exception& e) {
    std::cerr << "novactl: " << OneLine(e.what()) << std::endl;
    return 1;
  }
}
