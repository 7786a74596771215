// report.h formats values: these tests build the values by hand. What the values are
// (judged from a directory and procfs) is tested in reconcile_test.cpp.
#include "report.h"

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include "test_support.h"

namespace kcm {
namespace {

using nlohmann::json;
using namespace testing_support;

const std::string kFixtures = KCM_FIXTURES_DIR;

// --- describe -------------------------------------------------------------------------

TEST(DescribeTest, DocumentExampleMatchesByteForByte) {
  TempDir tmp;
  make_example_conf(tmp / "conf");
  const Config config = ConfigDir::open(tmp / "conf").read();
  EXPECT_EQ(to_document(describe_json("/etc/kcm", config)),
            read_text(kFixtures + "/describe/expected.json"));
}

TEST(DescribeTest, EmptyTasksAndNoPools) {
  Config config;
  Pool dp{"dataplane", true, {}};
  dp.lists.emplace("4,12", CpuList{"4,12", CpuSet{4, 12}, {}});
  config.pools.emplace("dataplane", dp);
  config.pools.emplace("empty", Pool{"empty", false, {}});
  EXPECT_EQ(to_document(describe_json("/c", config)),
            "{\n"
            "  \"path\": \"/c\",\n"
            "  \"pools\": {\n"
            "    \"dataplane\": {\n"
            "      \"cpuLists\": {\n"
            "        \"4,12\": {\n"
            "          \"cpus\": \"4,12\",\n"
            "          \"tasks\": []\n"
            "        }\n"
            "      },\n"
            "      \"exclusive\": true,\n"
            "      \"name\": \"dataplane\"\n"
            "    },\n"
            "    \"empty\": {\n"
            "      \"cpuLists\": {},\n"
            "      \"exclusive\": false,\n"
            "      \"name\": \"empty\"\n"
            "    }\n"
            "  }\n"
            "}\n");
  EXPECT_EQ(to_document(describe_json("/c", Config{})),
            "{\n  \"path\": \"/c\",\n  \"pools\": {}\n}\n");
}

TEST(DescribeTest, CpusIsTheListNameAsWritten) {
  Config config;
  Pool infra{"infra", false, {}};
  infra.lists.emplace("0,1,2", CpuList{"0,1,2", CpuSet{0, 1, 2}, {5}});
  config.pools.emplace("infra", infra);
  EXPECT_EQ(describe_json("/c", config)["pools"]["infra"]["cpuLists"]["0,1,2"]["cpus"], "0,1,2");
}

// --- reconcile ------------------------------------------------------------------------

TEST(ReconcileJsonTest, EmptyReportIsTheDocumentsEmptyReport) {
  EXPECT_EQ(to_document(reconcile_json(ReconcileReport{})),
            "{\n  \"mismatchedCpuMasks\": [],\n  \"reclaimedCpuLists\": []\n}\n");
}

TEST(ReconcileJsonTest, EntriesKeepTheirOrderAndTheDocumentShape) {
  ReconcileReport report;
  report.reclaimed = {{2001, "dataplane", "5,13"}, {3001, "infra", "0-2,8-10"}};
  report.mismatched = {{3000, "infra", "0-2,8-10", CpuSet::parse("0-3")}};
  EXPECT_EQ(to_document(reconcile_json(report)),
            "{\n"
            "  \"mismatchedCpuMasks\": [\n"
            "    {\n"
            "      \"actualCpus\": [\n"
            "        0,\n"
            "        1,\n"
            "        2,\n"
            "        3\n"
            "      ],\n"
            "      \"cpus\": \"0-2,8-10\",\n"
            "      \"pid\": 3000,\n"
            "      \"pool\": \"infra\"\n"
            "    }\n"
            "  ],\n"
            "  \"reclaimedCpuLists\": [\n"
            "    {\n"
            "      \"cpus\": \"5,13\",\n"
            "      \"pid\": 2001,\n"
            "      \"pool\": \"dataplane\"\n"
            "    },\n"
            "    {\n"
            "      \"cpus\": \"0-2,8-10\",\n"
            "      \"pid\": 3001,\n"
            "      \"pool\": \"infra\"\n"
            "    }\n"
            "  ]\n"
            "}\n");
}

// --- node-report ----------------------------------------------------------------------

json check(std::vector<std::string> errors) {
  const bool ok = errors.empty();
  return {{"errors", std::move(errors)}, {"ok", ok}};
}

TEST(NodeReportJsonTest, UnreadableDirectoryHasOnlyItsCheckAndANullDescription) {
  NodeReport report;
  report.path = "/etc/kcm";
  report.config_errors = {"Unable to open the KCM configuration directory \"/etc/kcm\""};
  EXPECT_EQ(to_document(node_report_json(report)),
            "{\n"
            "  \"checks\": {\n"
            "    \"configDirectory\": {\n"
            "      \"errors\": [\n"
            "        \"Unable to open the KCM configuration directory \\\"/etc/kcm\\\"\"\n"
            "      ],\n"
            "      \"ok\": false\n"
            "    }\n"
            "  },\n"
            "  \"description\": null\n"
            "}\n");
}

TEST(NodeReportJsonTest, EveryCheckGivenIsFormattedAndTheConfigDescribed) {
  NodeReport report;
  report.path = "/etc/kcm";
  report.config = Config{};
  report.cpu_errors = std::vector<std::string>{};
  report.task_errors = std::vector<std::string>{"Task 1 in p:0 is not running"};
  report.owner_errors = std::vector<std::string>{};
  EXPECT_EQ(node_report_json(report),
            json({{"checks",
                   {{"configDirectory", check({})},
                    {"cpus", check({})},
                    {"tasks", check({"Task 1 in p:0 is not running"})},
                    {"owners", check({})}}},
                  {"description", describe_json("/etc/kcm", Config{})}}));
}

TEST(NodeReportJsonTest, ChecksNotMadeAreLeftOut) {
  NodeReport report;
  report.config = Config{};
  report.task_errors = std::vector<std::string>{};
  const json checks = node_report_json(report)["checks"];
  EXPECT_TRUE(checks.contains("configDirectory"));
  EXPECT_TRUE(checks.contains("tasks"));
  EXPECT_FALSE(checks.contains("cpus"));
  EXPECT_FALSE(checks.contains("owners"));
}

TEST(NodeReportJsonTest, AuditChecksHaveTheSameShapeAndLeaveTheOthersAsTheyWere) {
  NodeReport report;
  report.path = "/etc/kcm";
  report.config = Config{};
  report.task_errors = std::vector<std::string>{};
  const json before = node_report_json(report);
  report.exclusive_cpus = AuditCheck{{"Process 1 ..."}, 1};
  report.irqs = AuditCheck{{"IRQ 24 ...", "irqbalance ..."}, 1};
  report.kubelet = AuditCheck{};
  report.host_slices = AuditCheck{};
  json after = node_report_json(report);
  EXPECT_EQ(after["checks"]["exclusiveCpus"], check({"Process 1 ..."}));
  EXPECT_EQ(after["checks"]["irqs"], check({"IRQ 24 ...", "irqbalance ..."}));  // the hint too
  EXPECT_EQ(after["checks"]["kubelet"], check({}));
  EXPECT_EQ(after["checks"]["hostSlices"], check({}));
  for (const char* name : {"exclusiveCpus", "irqs", "kubelet", "hostSlices"}) {
    after["checks"].erase(name);
  }
  EXPECT_EQ(after, before);
}

TEST(ToDocumentTest, SortsKeysIndentsTwoAndEndsWithNewline) {
  EXPECT_EQ(to_document(json({{"b", 1}, {"a", json::array({1, 2})}})),
            "{\n  \"a\": [\n    1,\n    2\n  ],\n  \"b\": 1\n}\n");
}

}  // namespace
}  // namespace kcm
