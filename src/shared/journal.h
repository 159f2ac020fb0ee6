// Reading the systemd journal: the one helper both novactl (events) and the
// agent hook (PID 1's entries about an agent) need.
#pragma once

#include <systemd/sd-journal.h>

#include <string>

namespace nova {

// The value of field `name` of the journal's current entry, "" if absent.
std::string JournalField(sd_journal* journal, const char* name);

}  // namespace nova
