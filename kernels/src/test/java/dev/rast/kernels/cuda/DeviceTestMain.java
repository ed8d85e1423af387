package dev.rast.kernels.cuda;

import static org.junit.platform.engine.discovery.DiscoverySelectors.selectClass;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import org.junit.platform.engine.TestExecutionResult;
import org.junit.platform.launcher.Launcher;
import org.junit.platform.launcher.LauncherDiscoveryRequest;
import org.junit.platform.launcher.TestExecutionListener;
import org.junit.platform.launcher.TestIdentifier;
import org.junit.platform.launcher.core.LauncherDiscoveryRequestBuilder;
import org.junit.platform.launcher.core.LauncherFactory;

/**
 * Runs JUnit test classes without Maven (the GPU machine has a JDK runtime and jars, nothing else), prints one line
 * per test and the closing line "N passed, N failed, N skipped", and writes a Markdown table to
 * {@code -Drast.report=FILE} if set. Exit status 1 when a test failed.
 *
 * <pre>java -cp 'lib/*:kernels-test-classes:tests-test-classes' dev.rast.kernels.cuda.DeviceTestMain CLASS...</pre>
 */
public final class DeviceTestMain {
    private DeviceTestMain() {}

    /** The GPU check's test classes (scripts/gpu-check.sh): every class whose tests run on the "cuda" target. */
    public static final List<String> GPU_TESTS = List.of("dev.rast.kernels.cuda.CudaHostTest", "dev.rast.kernels.BackendOpsTest",
            "dev.rast.kernels.cuda.CudaKernelsTest", "dev.rast.kernels.cuda.CudaFusedOpsTest", "dev.rast.kernels.cuda.CudaGraphTest",
            "dev.rast.tests.CudaReferenceModelTest", "dev.rast.tests.CudaDecodeGraphTest",
            "dev.rast.tests.KvCacheBf16Test", "dev.rast.tests.WeightDtypeTest", "dev.rast.tests.DeviceSamplingPathTest",
            "dev.rast.tests.ServeDeviceSamplingTest", "dev.rast.tests.Bf16GemmTest");

    record Outcome(String name, String status, String detail) {}

    public static void main(String[] args) throws IOException {
        List<String> classes = args.length > 0 ? List.of(args) : GPU_TESTS;
        LauncherDiscoveryRequest request = LauncherDiscoveryRequestBuilder.request()
                .selectors(classes.stream().map(c -> selectClass(c)).toList()).build();
        List<Outcome> outcomes = new ArrayList<>();
        TestExecutionListener listener = new TestExecutionListener() {
            @Override
            public void executionSkipped(TestIdentifier id, String reason) {
                if (id.isTest()) record(id, "skipped", reason);
            }

            @Override
            public void executionFinished(TestIdentifier id, TestExecutionResult result) {
                if (!id.isTest() && result.getStatus() == TestExecutionResult.Status.SUCCESSFUL) return;
                Optional<Throwable> t = result.getThrowable();
                String detail = t.map(x -> x.getClass().getSimpleName() + ": " + x.getMessage()).orElse("");
                String status = switch (result.getStatus()) {
                    case SUCCESSFUL -> "passed";
                    case ABORTED -> "skipped";
                    case FAILED -> "failed";
                };
                record(id, status, detail);
            }

            private void record(TestIdentifier id, String status, String detail) {
                String method = id.getUniqueId().replaceAll(".*\\[class:[\\w.]*\\.(\\w+)\\].*\\[(?:method|test-template):(\\w+).*", "$1.$2");
                String name = id.getDisplayName().endsWith("()") ? method : method + " " + id.getDisplayName();
                Outcome o = new Outcome(name, status, detail == null ? "" : detail.replace('\n', ' '));
                synchronized (outcomes) { outcomes.add(o); }
                System.out.println(status.toUpperCase() + "  " + o.name() + (o.detail().isEmpty() || status.equals("passed") ? "" : "  — " + o.detail()));
            }
        };
        Launcher launcher = LauncherFactory.create();
        launcher.execute(request, listener);
        long passed = outcomes.stream().filter(o -> o.status().equals("passed")).count();
        long failed = outcomes.stream().filter(o -> o.status().equals("failed")).count();
        long skipped = outcomes.stream().filter(o -> o.status().equals("skipped")).count();
        String report = System.getProperty("rast.report");
        if (report != null) {
            StringBuilder md = new StringBuilder("| test | result | detail |\n|---|---|---|\n");
            for (Outcome o : outcomes)
                md.append("| ").append(o.name().replace("|", "\\|")).append(" | ").append(o.status()).append(" | ")
                        .append(o.detail().replace("|", "\\|")).append(" |\n");
            md.append("\n").append(passed).append(" passed, ").append(failed).append(" failed, ").append(skipped).append(" skipped\n");
            Files.writeString(Path.of(report), md);
        }
        System.out.println(passed + " passed, " + failed + " failed, " + skipped + " skipped");
        System.exit(failed > 0 ? 1 : 0);
    }
}
