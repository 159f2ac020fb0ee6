// The environment an agent gets: only what the spawner asked for, checked,
// and never the CODER_PROC_* priority-policy variables, which belong to novad
// (an agent that saw them could act as a supervisor itself, as in Coder on
// Coder).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace nova {

inline constexpr std::string_view kCoderProcPrefix = "CODER_PROC_";

// The policy variables novad knows by name; systemd is told to unset them in
// every agent (UnsetEnvironment=) in case its own manager environment has them.
inline const std::vector<std::string> kCoderProcVariables = {
    "CODER_PROC_PRIO_MGMT", "CODER_PROC_OOM_SCORE", "CODER_PROC_NICE_SCORE"};

bool IsCoderProcVariable(std::string_view name);

// Throws InvalidArgument unless every entry is NAME=VALUE with NAME a shell
// identifier, not CODER_PROC_*, and VALUE free of NUL and newlines.
void ValidateEnvironment(const std::vector<std::string>& assignments);

}  // namespace nova
