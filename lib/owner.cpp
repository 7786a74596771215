#include "owner.h"

#include <ctime>
#include <nlohmann/json.hpp>

#include "error.h"
#include "sha256.h"

namespace kcm {

std::string owner_file_stem(const std::string& owner) {
  bool safe = !owner.empty() && owner.size() <= 128 && owner[0] != '.';
  for (char c : owner) {
    bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
              c == '_' || c == '.' || c == '-';
    if (!ok) safe = false;
  }
  return safe ? owner : sha256_hex(owner);
}

std::string owner_to_json(const Owner& o) {
  nlohmann::json j = {{"owner", o.owner},     {"pid", o.pid},
                      {"startTime", o.start_time}, {"pool", o.pool},
                      {"cpuLists", o.cpu_lists},   {"created", o.created}};
  return j.dump(2) + "\n";
}

Owner owner_from_json(const std::string& text, const std::string& display) {
  try {
    nlohmann::json j = nlohmann::json::parse(text);
    Owner o;
    o.owner = j.at("owner").get<std::string>();
    o.pid = j.at("pid").get<pid_t>();
    o.start_time = j.at("startTime").get<std::uint64_t>();
    o.pool = j.at("pool").get<std::string>();
    o.cpu_lists = j.at("cpuLists").get<std::vector<std::string>>();
    o.created = j.value("created", "");
    if (o.pid <= 0) throw op_error("parse", display, "pid must be positive");
    return o;
  } catch (const nlohmann::json::exception& e) {
    throw op_error("parse", display, e.what());
  }
}

std::string rfc3339_now() {
  std::time_t now = std::time(nullptr);
  std::tm tm{};
  ::gmtime_r(&now, &tm);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", &tm);
  return buf;
}

}  // namespace kcm
