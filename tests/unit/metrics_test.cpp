// node-report's Prometheus text: the families and values, and a parser of the text
// exposition format 0.0.4 that every output must pass (names, HELP/TYPE before samples,
// one block per family, label syntax and escapes, numeric values).
#include "metrics.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <map>
#include <regex>
#include <set>
#include <sstream>

#include "test_support.h"

namespace kcm {
namespace {

using testing::HasSubstr;
using namespace testing_support;

struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

// Parses the text format strictly; fails the test (and returns what it got) on the
// first line that breaks the format's rules.
std::vector<Sample> parse_exposition(const std::string& text) {
  static const std::regex kName("[a-zA-Z_:][a-zA-Z0-9_:]*");
  static const std::regex kLabelName("[a-zA-Z_][a-zA-Z0-9_]*");
  std::vector<Sample> samples;
  std::set<std::string> closed;  // families whose block has ended
  std::string current;           // the family of the block being read
  std::map<std::string, std::string> types;
  EXPECT_TRUE(text.empty() || text.back() == '\n') << "no final newline";
  std::istringstream lines(text);
  std::string line;
  auto open_family = [&](const std::string& name) {
    if (name == current) return;
    EXPECT_FALSE(closed.contains(name)) << "family " << name << " in two blocks";
    if (!current.empty()) closed.insert(current);
    current = name;
  };
  while (std::getline(lines, line)) {
    SCOPED_TRACE(line);
    EXPECT_FALSE(line.empty());
    if (line.rfind("# HELP ", 0) == 0 || line.rfind("# TYPE ", 0) == 0) {
      std::istringstream words(line.substr(7));
      std::string name, rest;
      words >> name;
      std::getline(words, rest);
      EXPECT_TRUE(std::regex_match(name, kName));
      open_family(name);
      if (line[2] == 'T') {
        EXPECT_FALSE(types.contains(name)) << "two TYPE lines";
        EXPECT_TRUE(rest == " gauge" || rest == " counter") << rest;
        EXPECT_TRUE(samples.empty() || samples.back().name != name) << "TYPE after a sample";
        types[name] = rest.substr(1);
      }
      continue;
    }
    EXPECT_NE(line[0], '#') << "unknown comment";
    Sample s;
    std::size_t i = 0;
    while (i < line.size() && line[i] != '{' && line[i] != ' ') ++i;
    s.name = line.substr(0, i);
    EXPECT_TRUE(std::regex_match(s.name, kName));
    EXPECT_TRUE(types.contains(s.name)) << "sample before its TYPE";
    open_family(s.name);
    if (i < line.size() && line[i] == '{') {
      ++i;
      while (i < line.size() && line[i] != '}') {
        std::size_t eq = line.find('=', i);
        EXPECT_NE(eq, std::string::npos);
        if (eq == std::string::npos) return samples;
        std::string label = line.substr(i, eq - i);
        EXPECT_TRUE(std::regex_match(label, kLabelName)) << label;
        EXPECT_EQ(line[eq + 1], '"');
        std::string value;
        for (i = eq + 2; i < line.size() && line[i] != '"'; ++i) {
          if (line[i] == '\\') {
            ++i;
            EXPECT_TRUE(line[i] == '\\' || line[i] == '"' || line[i] == 'n');
            value += line[i] == 'n' ? '\n' : line[i];
          } else {
            value += line[i];
          }
        }
        EXPECT_LT(i, line.size()) << "unterminated label value";
        EXPECT_FALSE(s.labels.contains(label));
        s.labels[label] = value;
        ++i;
        if (i < line.size() && line[i] == ',') ++i;
      }
      ++i;
    }
    EXPECT_EQ(line[i], ' ');
    std::string number = line.substr(i + 1);
    std::size_t used = 0;
    s.value = std::stod(number, &used);
    EXPECT_EQ(used, number.size()) << "value " << number;
    samples.push_back(std::move(s));
  }
  for (const auto& [name, type] : types) {
    if (type == "counter") {
      EXPECT_TRUE(name.ends_with("_total")) << name;
    } else {
      EXPECT_FALSE(name.ends_with("_total")) << name;
    }
    EXPECT_EQ(name.rfind("kcm_", 0), 0u) << name;
  }
  return samples;
}

double value_of(const std::vector<Sample>& samples, const std::string& name,
                const std::map<std::string, std::string>& labels = {}) {
  for (const Sample& s : samples) {
    if (s.name == name && s.labels == labels) return s.value;
  }
  ADD_FAILURE() << "no sample " << name;
  return -1;
}

NodeReport full_report() {
  NodeReport r;
  r.path = "/etc/kcm";
  Config config;
  Pool dp{"dataplane", true, {}};
  dp.lists.emplace("4,12", CpuList{"4,12", CpuSet{4, 12}, {2000}});
  dp.lists.emplace("5,13", CpuList{"5,13", CpuSet{5, 13}, {}});
  dp.lists.emplace("6,14", CpuList{"6,14", CpuSet{6, 14}, {2001}});
  Pool infra{"infra", false, {}};
  infra.lists.emplace("0-3", CpuList{"0-3", CpuSet{0, 1, 2, 3}, {1, 2, 1}});
  config.pools.emplace("dataplane", dp);
  config.pools.emplace("infra", infra);
  r.config = config;
  r.cpu_errors = std::vector<std::string>{};
  r.task_errors = std::vector<std::string>{"Task 9 ..."};
  r.owner_errors = std::vector<std::string>{};
  r.exclusive_cpus = AuditCheck{{"a", "b", "c"}, 3};
  r.irqs = AuditCheck{{"irq", "hint"}, 1};
  r.kubelet = AuditCheck{};
  r.host_slices = AuditCheck{{"s"}, 1};
  r.last_reconcile = 1764528000;
  return r;
}

TEST(PrometheusTextTest, EveryFamilyParsesWithTheReportsValues) {
  const auto samples = parse_exposition(prometheus_text(full_report()));
  EXPECT_EQ(value_of(samples, "kcm_check_ok", {{"check", "configDirectory"}}), 1);
  EXPECT_EQ(value_of(samples, "kcm_check_ok", {{"check", "tasks"}}), 0);
  EXPECT_EQ(value_of(samples, "kcm_check_errors", {{"check", "tasks"}}), 1);
  EXPECT_EQ(value_of(samples, "kcm_check_errors", {{"check", "irqs"}}), 2);
  EXPECT_EQ(value_of(samples, "kcm_audit_violations", {{"check", "irqs"}}), 1);  // not the hint
  EXPECT_EQ(value_of(samples, "kcm_audit_violations", {{"check", "exclusiveCpus"}}), 3);
  EXPECT_EQ(value_of(samples, "kcm_audit_violations", {{"check", "kubelet"}}), 0);
  EXPECT_EQ(value_of(samples, "kcm_audit_violations", {{"check", "hostSlices"}}), 1);
  EXPECT_EQ(value_of(samples, "kcm_pool_exclusive", {{"pool", "dataplane"}}), 1);
  EXPECT_EQ(value_of(samples, "kcm_pool_exclusive", {{"pool", "infra"}}), 0);
  EXPECT_EQ(value_of(samples, "kcm_pool_cpus", {{"pool", "dataplane"}}), 6);
  EXPECT_EQ(value_of(samples, "kcm_pool_cpu_lists", {{"pool", "dataplane"}}), 3);
  EXPECT_EQ(value_of(samples, "kcm_pool_free_cpu_lists", {{"pool", "dataplane"}}), 1);
  EXPECT_EQ(value_of(samples, "kcm_pool_holders", {{"pool", "dataplane"}}), 2);
  EXPECT_EQ(value_of(samples, "kcm_pool_holders", {{"pool", "infra"}}), 2);  // 1 twice
  EXPECT_EQ(value_of(samples, "kcm_pool_free_cpu_lists", {{"pool", "infra"}}), 0);
  EXPECT_EQ(value_of(samples, "kcm_last_reconcile_timestamp_seconds"), 1764528000);
}

TEST(PrometheusTextTest, AnUnreadableDirectoryGivesOnlyItsCheck) {
  NodeReport r;
  r.config_errors = {"open \"/etc/kcm\": No such file or directory"};
  const std::string text = prometheus_text(r);
  EXPECT_EQ(text,
            "# HELP kcm_check_ok Whether a kcm node-report check found nothing (1) or not (0).\n"
            "# TYPE kcm_check_ok gauge\n"
            "kcm_check_ok{check=\"configDirectory\"} 0\n"
            "# HELP kcm_check_errors Errors a kcm node-report check found.\n"
            "# TYPE kcm_check_errors gauge\n"
            "kcm_check_errors{check=\"configDirectory\"} 1\n");
  parse_exposition(text);
}

TEST(PrometheusTextTest, LabelValuesAreEscaped) {
  EXPECT_EQ(escape_label_value("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(WriteTextfileTest, ReplacesTheFileAtomicallyLeavingNoTempFile) {
  TempDir tmp;
  const std::string path = tmp / "kcm.prom";
  write_textfile(path, "old\n");
  write_textfile(path, "new\n");
  EXPECT_EQ(read_text(path), "new\n");
  EXPECT_EQ(names_in(tmp.path()), std::vector<std::string>{"kcm.prom"});
}

TEST(WriteTextfileTest, AMissingDirectoryIsNamed) {
  try {
    write_textfile("/nonexistent/dir/kcm.prom", "x\n");
    FAIL();
  } catch (const Error& e) {
    EXPECT_THAT(e.what(), HasSubstr("/nonexistent/dir"));
  }
}

}  // namespace
}  // namespace kcm
