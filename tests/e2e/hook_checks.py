"""The container checks kcm-hook must pass under every runtime (hook_runc_test.py,
hook_crun_test.py), with kcm_e2e.POOLS: a `dataplane` exclusive pool with a list on each
of the two lowest CPUs this test may use (0 and 1 on a two-CPU machine) and an `infra`
shared pool with one list over both (0-1)."""

from kcm_e2e import (DATAPLANE_CPUS, DATAPLANE_LISTS, INFRA_LIST, cpu_list, needs_cpus,
                     read_owners, read_tasks, unpinned_cpus)

DATAPLANE = {"kcm.intel.com/pool": "dataplane"}


class CoreChecks:
    """A mixin of test methods: RuncTest(CoreChecks, kcm_e2e.RuntimeTestCase) etc."""

    @needs_cpus(2)
    def test_two_containers_get_different_single_cpus(self):
        a = self.started("a", DATAPLANE)
        b = self.started("b", DATAPLANE)
        aff_a, cg_a = a.seen()
        aff_b, cg_b = b.seen()
        self.assertIn(aff_a, DATAPLANE_LISTS)
        self.assertIn(aff_b, DATAPLANE_LISTS)
        self.assertNotEqual(aff_a, aff_b)
        self.assertEqual(cg_a, aff_a)
        self.assertEqual(cg_b, aff_b)
        tasks = read_tasks(self.conf)
        self.assertEqual(len(tasks[("dataplane", aff_a)]), 1)
        self.assertEqual(len(tasks[("dataplane", aff_b)]), 1)
        self.assertEqual(sorted(r["owner"] for r in read_owners(self.conf).values()),
                         sorted([a.id, b.id]))

    @needs_cpus(2)
    def test_third_container_is_refused_while_both_run(self):
        self.started("a", DATAPLANE)
        self.started("b", DATAPLANE)
        before = (read_tasks(self.conf), read_owners(self.conf))
        c = self.new_container("c", DATAPLANE)
        rc, err = c.start()
        self.assertNotEqual(rc, 0)
        self.check_refusal_message(err)
        self.assertEqual((read_tasks(self.conf), read_owners(self.conf)), before)

    def check_refusal_message(self, err):
        """Runtimes that show a hook's stderr check it here."""

    def test_lists_are_free_after_exit(self):
        a = self.started("a", DATAPLANE)
        b = self.started("b", {"kcm.intel.com/pool": "infra"})
        a.stop()
        b.stop()
        self.assert_all_free()

    @needs_cpus(2)
    def test_list_is_reused_after_release(self):
        a = self.started("a", DATAPLANE)
        b = self.started("b", DATAPLANE)
        a.stop()
        c = self.started("c", DATAPLANE)
        self.assertEqual(c.seen()[0], a.seen()[0])
        b.stop()
        c.stop()
        self.assert_all_free()

    def test_sandbox_is_untouched(self):
        for key, value in (("io.kubernetes.cri.container-type", "sandbox"),
                           ("io.kubernetes.cri-o.ContainerType", "sandbox"),
                           ("io.kubernetes.docker.type", "podsandbox")):
            with self.subTest(key=key):
                s = self.started("sandbox-" + key.split(".")[-1].replace("/", "-").lower(),
                                 dict(DATAPLANE, **{key: value}))
                self.assertEqual(s.seen(), (unpinned_cpus(), unpinned_cpus()))
                self.assert_all_free()
                s.stop()

    def test_unannotated_container_is_untouched(self):
        s = self.started("plain", {"io.kubernetes.cri.container-name": "app"})
        self.assertEqual(s.seen(), (unpinned_cpus(), unpinned_cpus()))
        self.assertFalse(any(read_tasks(self.conf).values()))

    def test_container_override_wins_over_pod_pool(self):
        annotations = {"io.kubernetes.cri.container-name": "app",
                       "kcm.intel.com/pool": "infra",
                       "kcm.intel.com/pool.app": "dataplane"}
        c = self.started("override", annotations)
        affinity, cpuset = c.seen()
        self.assertIn(affinity, DATAPLANE_LISTS)
        self.assertEqual(cpuset, affinity)
        self.assertEqual(len(read_tasks(self.conf)[("dataplane", affinity)]), 1)
        self.assertEqual(read_tasks(self.conf)[("infra", INFRA_LIST)], [])

    def test_shared_pool_gives_its_list(self):
        a = self.started("a", {"kcm.intel.com/pool": "infra"})
        b = self.started("b", {"kcm.intel.com/pool": "infra"})
        self.assertEqual(a.seen(), (INFRA_LIST, INFRA_LIST))
        self.assertEqual(len(read_tasks(self.conf)[("infra", INFRA_LIST)]), 2)
        self.assertEqual(b.seen(), (INFRA_LIST, INFRA_LIST))

    @needs_cpus(2)
    def test_cores_two_takes_both_lists(self):
        c = self.started("wide", dict(DATAPLANE, **{"kcm.intel.com/cores": "2"}))
        both = cpu_list(DATAPLANE_CPUS)
        self.assertEqual(c.seen(), (both, both))
        tasks = read_tasks(self.conf)
        first, second = DATAPLANE_LISTS
        self.assertEqual(len(tasks[("dataplane", first)]), 1)
        self.assertEqual(tasks[("dataplane", first)], tasks[("dataplane", second)])
        c.stop()
        self.assert_all_free()

    def test_both_start_stages_pin_once(self):
        # createRuntime runs after prestart here; the second call re-applies the lists
        # the first one chose.
        c = self.started("twice", DATAPLANE,
                         stages=("prestart", "createRuntime", "poststop"))
        affinity, cpuset = c.seen()
        self.assertIn(affinity, DATAPLANE_LISTS)
        self.assertEqual(cpuset, affinity)
        tasks = read_tasks(self.conf)
        self.assertEqual(len(tasks[("dataplane", affinity)]), 1)
        self.assertEqual(len(read_owners(self.conf)), 1)
        c.stop()
        self.assert_all_free()

    def test_unknown_pool_is_refused(self):
        c = self.new_container("unknown", {"kcm.intel.com/pool": "nosuchpool"})
        rc, err = c.start()
        self.assertNotEqual(rc, 0)
        self.assert_all_free()

