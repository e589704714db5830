// sctprofRun: one pipeline step that runs an SCT test under sctprof, archives the bundle,
// and, given a baseline bundle, gates the build on `sctprof diff` through the junit step.
// This folder (ci/jenkins) is a Jenkins shared library: see docs/hydra.md, "In Jenkins".
//
//   sctprofRun(kind: 'memory',
//              command: './docker/env/hydra.sh run-test longevity_test.LongevityTest.test_custom_time --backend aws',
//              baseline: 'baseline/sct-profiles/latest.tar.zst',
//              threshold: '10%')
//
// Parameters:
//   kind        profile kind: memory (default), cprofile, timeline or sampling
//   command     the test command, run with sh. With viaHydra (the default) it is a hydra
//               command: SCT_PROFILE and SCT_PROFILE_DIR reach the container (hydra passes
//               every SCT_* variable), where the image's hook runs the command under
//               `sctprof run --inject`. Without, it runs on the agent under
//               `sctprof run --profile=KIND --output-dir=DIR --`.
//   baseline    a bundle (or run folder) in the workspace to compare with; '' for none
//   threshold   growth beyond which a function is a regression (default '10%')
//   outputDir   where bundles go, relative to the workspace (default 'sct-profiles')
//   viaHydra    true (default) or false, as above
//   sctprof     how to start sctprof on the agent for run and diff (default 'sctprof');
//               e.g. 'docker run --rm -v "$PWD:$PWD" -w "$PWD" scylladb/hydra:v1.95 sctprof'
//   failOnRegression  false (default): a regression makes the build UNSTABLE (the junit
//               step's failing test cases); true: it fails the build
//
// The test's own exit status decides the stage, as without profiling: the bundle is
// archived and the diff published first, whatever the test did.
def call(Map args = [:]) {
    String kind = args.kind ?: 'memory'
    String command = args.command
    String baseline = args.baseline ?: ''
    String threshold = args.threshold ?: '10%'
    String outputDir = args.outputDir ?: 'sct-profiles'
    boolean viaHydra = args.containsKey('viaHydra') ? args.viaHydra as boolean : true
    String sctprof = args.sctprof ?: 'sctprof'
    boolean failOnRegression = args.failOnRegression as boolean

    if (!command) {
        error('sctprofRun: command is required')
    }
    if (!(kind in ['memory', 'cprofile', 'timeline', 'sampling'])) {
        error("sctprofRun: kind '${kind}' is not one of memory, cprofile, timeline, sampling")
    }

    int testStatus
    if (viaHydra) {
        withEnv(["SCT_PROFILE=${kind}", "SCT_PROFILE_DIR=${outputDir}"]) {
            testStatus = sh(script: command, returnStatus: true)
        }
    } else {
        testStatus = sh(script: "${sctprof} run --profile=${q(kind)} --output-dir=${q(outputDir)} -- ${command}",
                        returnStatus: true)
    }

    archiveArtifacts artifacts: "${outputDir}/*.tar.zst", fingerprint: true

    if (baseline) {
        // The bundle this run wrote: OUTDIR/latest points at it.
        String bundle = "${outputDir}/latest"
        int diffStatus = sh(script: "${sctprof} diff --format junit --threshold ${q(threshold)} " +
                                    "${q(baseline)} ${q(bundle)} > sctprof-diff.xml",
                            returnStatus: true)
        if (diffStatus > 1) {
            error("sctprofRun: sctprof diff could not compare ${baseline} with ${bundle} (exit ${diffStatus})")
        }
        // One failing test case per regression: the junit step marks the build UNSTABLE.
        junit testResults: 'sctprof-diff.xml', allowEmptyResults: false
        if (diffStatus == 1 && failOnRegression) {
            error("sctprofRun: ${kind} profile regressed beyond ${threshold} against ${baseline}")
        }
    }

    if (testStatus != 0) {
        error("sctprofRun: the test exited with status ${testStatus}")
    }
    return testStatus
}

// Single-quoted for sh.
private static String q(String s) {
    return "'" + s.replace("'", "'\\''") + "'"
}
