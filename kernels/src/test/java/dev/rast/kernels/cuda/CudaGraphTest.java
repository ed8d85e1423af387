package dev.rast.kernels.cuda;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;

import dev.rast.engine.tensor.DType;
import java.lang.foreign.MemorySegment;
import java.util.List;
import java.util.SplittableRandom;
import java.util.function.Consumer;
import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * CUDA graphs at the {@link Device} level, on a real GPU and on the emulator: a captured sequence of kernels, a
 * GEMM, a memset and a device-to-device copy replays with the argument values it was captured with but reads device
 * memory as it is at replay time (the token ids of each "step" are written into a fixed buffer before the replay);
 * operations that cannot be part of a graph are refused with a message naming them, and leave the device usable.
 */
class CudaGraphTest {
    static Stream<String> targets() { return GpuTargets.targets().stream(); }

    static final int V = 50, D = 64, N = 24, T = 4;

    /** The device buffers of the little "step" below. */
    record Step(long table, long norm, long w, long ids, long x, long y, long acc, long copy) {}

    static Step allocate(Device dev, float[] table, float[] norm, float[] w) {
        Step s = new Step(dev.alloc(4L * V * D, "table"), dev.alloc(4L * D, "norm"), dev.alloc(4L * N * D, "w"),
                dev.alloc(4L * T, "ids"), dev.alloc(4L * T * D, "x"), dev.alloc(4L * T * D, "y"), dev.alloc(4L * T * N, "acc"),
                dev.alloc(4L * T * N, "copy"));
        dev.toDevice(MemorySegment.ofArray(table), s.table, 4L * V * D);
        dev.toDevice(MemorySegment.ofArray(norm), s.norm, 4L * D);
        dev.toDevice(MemorySegment.ofArray(w), s.w, 4L * N * D);
        return s;
    }

    /**
     * x = table[ids]; y = rmsnorm(x)·norm; acc = 0; acc += y·wᵀ (GEMM with beta 1, so the memset must come first);
     * copy = acc. Five operations, every per-step value (the ids) read from device memory.
     */
    static void issue(Device dev, Step s) {
        try (KernelArgs a = Kernel.EMBED.args().ptr(s.table).i32(Kernel.dtypeCode(DType.F32)).ptr(s.ids).ptr(s.x).i32(D)) {
            dev.launch(a, T, 1, 1, 256, 0);
        }
        try (KernelArgs a = Kernel.RMS_NORM.args().ptr(s.x).ptr(s.norm).i32(Kernel.dtypeCode(DType.F32)).f32(1e-6f).ptr(s.y).i32(D)) {
            dev.launch(a, T, 1, 1, 256, 0);
        }
        dev.zero(s.acc, 4L * T * N);
        dev.gemm(GemmCall.linear(T, N, D, s.w, Cublas.CUDA_R_32F, s.y, Cublas.CUDA_R_32F, s.acc, N, 1f));
        dev.copy(s.acc, s.copy, 4L * T * N);
    }

    static float[] read(Device dev, long p, int n) {
        float[] v = new float[n];
        dev.toHost(p, MemorySegment.ofArray(v), 4L * n);
        return v;
    }

    static float[] random(SplittableRandom r, int n) {
        float[] v = new float[n];
        for (int i = 0; i < n; i++) v[i] = (float) (r.nextDouble() * 2 - 1);
        return v;
    }

    /**
     * Replays equal the eager run bit for bit (same kernels, same GEMM, same order), step after step with new ids;
     * the embedding rows equal the host table's rows exactly (an F32 copy), which shows each replay read the ids
     * written just before it rather than the ones present at capture.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void replaysReadTheirInputsFromDeviceMemoryAndEqualEagerRuns(String target) {
        SplittableRandom r = new SplittableRandom(24);
        float[] table = random(r, V * D), norm = random(r, D), w = random(r, N * D);
        try (Device dev = GpuTargets.device(target)) {
            Step eager = allocate(dev, table, norm, w), graphed = allocate(dev, table, norm, w);
            dev.toDevice(MemorySegment.ofArray(new int[] {0, 1, 2, 3}), graphed.ids, 4L * T);
            int launchesBefore = dev instanceof EmulatedDevice e ? e.launches() : -1;
            Device.Graph g = dev.capture(() -> issue(dev, graphed));
            try (g) {
                assertEquals(5, g.operations(), "embed, rms_norm, memset, GEMM, copy");
                if (dev instanceof EmulatedDevice e) assertEquals(launchesBefore + 2, e.launches(), "the capture issued two launches");
                for (int step = 0; step < 4; step++) {
                    int[] ids = new int[T];
                    for (int i = 0; i < T; i++) ids[i] = r.nextInt(V);
                    dev.toDevice(MemorySegment.ofArray(ids), eager.ids, 4L * T);
                    issue(dev, eager);
                    dev.toDevice(MemorySegment.ofArray(ids), graphed.ids, 4L * T);
                    int launches = dev instanceof EmulatedDevice e ? e.launches() : 0;
                    int gemms = dev instanceof EmulatedDevice e ? e.gemms() : 0;
                    int graphs = dev instanceof EmulatedDevice e ? e.graphLaunches() : 0;
                    dev.launch(g);
                    if (dev instanceof EmulatedDevice e) {
                        assertEquals(graphs + 1, e.graphLaunches(), "one graph launch a step");
                        assertEquals(launches, e.launches(), "no kernel launch from the host during a replay");
                        assertEquals(gemms, e.gemms(), "no GEMM call from the host during a replay");
                    }
                    float[] x = read(dev, graphed.x, T * D);
                    for (int i = 0; i < T; i++)
                        for (int j = 0; j < D; j++)
                            assertEquals(table[ids[i] * D + j], x[i * D + j], target + " step " + step + ": embedding row " + i);
                    String what = target + " step " + step;
                    assertArrayEquals(read(dev, eager.y, T * D), read(dev, graphed.y, T * D), what + ": normed rows");
                    assertArrayEquals(read(dev, eager.acc, T * N), read(dev, graphed.acc, T * N), what + ": GEMM");
                    assertArrayEquals(read(dev, eager.acc, T * N), read(dev, graphed.copy, T * N), what + ": copy");
                }
            }
        }
    }

    /**
     * Each operation a graph cannot hold is refused mid-capture with a {@link GraphCaptureException} naming it; the
     * capture is abandoned and the device runs eagerly afterwards (a launch runs and its result reads back).
     */
    @ParameterizedTest
    @MethodSource("targets")
    void operationsAGraphCannotHoldAreRefusedByName(String target) {
        SplittableRandom r = new SplittableRandom(7);
        float[] table = random(r, V * D), norm = random(r, D), w = random(r, N * D);
        try (Device dev = GpuTargets.device(target)) {
            Step s = allocate(dev, table, norm, w);
            dev.toDevice(MemorySegment.ofArray(new int[] {3, 1, 4, 1}), s.ids, 4L * T);
            MemorySegment host = MemorySegment.ofArray(new float[T]);
            record Refused(String name, Consumer<Device> op) {}
            for (Refused f : List.of(
                    new Refused("host-to-device copy", d -> d.toDevice(MemorySegment.ofArray(new int[T]), s.ids, 4L * T)),
                    new Refused("device-to-host copy", d -> d.toHost(s.x, host, 4L * T)),
                    new Refused("synchronize", Device::synchronize),
                    new Refused("allocation (scratch)", d -> d.alloc(1024, "scratch")))) {
                GraphCaptureException e = assertThrows(GraphCaptureException.class, () -> dev.capture(() -> {
                    issue(dev, s);
                    f.op.accept(dev);
                }), target + ": " + f.name);
                assertTrue(e.getMessage().contains(f.name), target + ": the message names the " + f.name + ": " + e.getMessage());
                assertFalse(dev.capturing(), target + ": the capture was abandoned after the " + f.name);
                issue(dev, s); // runs eagerly again
                float[] x = read(dev, s.x, T * D);
                assertEquals(table[3 * D], x[0], target + ": eager work after the refused " + f.name);
            }
            dev.beginCapture();
            assertThrows(IllegalStateException.class, dev::beginCapture, "nested capture");
            dev.zero(s.acc, 4L * T * N);
            Device.Graph g = dev.endCapture();
            assertThrows(GraphCaptureException.class, () -> dev.capture(() -> dev.launch(g)), "a graph launch inside a capture");
            g.close();
            assertThrows(IllegalArgumentException.class, () -> dev.launch(g), "a closed graph");
        }
    }

    /**
     * DecodeGraphs' decisions on a step it is handed: the first run captures (and launches) it, an identical one
     * replays, one whose launches differ (here: another output buffer for the copy) is captured anew rather than
     * replaying stale arguments, and one that uploads mid-way cannot be captured and runs eagerly. Each result is
     * checked against the host table (the embedding rows) and an eager run of the same step.
     */
    @ParameterizedTest
    @MethodSource("targets")
    void decodeGraphsReplayOnlyWhatWouldBeIssuedAgain(String target) {
        SplittableRandom r = new SplittableRandom(11);
        float[] table = random(r, V * D), norm = random(r, D), w = random(r, N * D);
        try (Device dev = GpuTargets.device(target)) {
            DecodeGraphs.Tap tap = new DecodeGraphs.Tap(dev);
            DecodeGraphs graphs = new DecodeGraphs(tap);
            Step s = allocate(dev, table, norm, w), eager = allocate(dev, table, norm, w);
            Step other = new Step(s.table(), s.norm(), s.w(), s.ids(), s.x(), s.y(), s.acc(), eager.copy());
            DecodeGraphs.Key key = new DecodeGraphs.Key(T, 1);
            int[][] ids = {{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10, 11, 12}, {13, 14, 15, 16}};
            String[] want = {"capture", "replay", "capture", "eager"};
            for (int step = 0; step < 4; step++) {
                dev.toDevice(MemorySegment.ofArray(ids[step]), s.ids, 4L * T);
                Step use = step == 2 ? other : s;
                int[] stepIds = ids[step];
                Runnable layers = step == 3
                        ? () -> { issue(tap, use); tap.toDevice(MemorySegment.ofArray(stepIds), use.ids(), 4L * T); }
                        : () -> issue(tap, use);
                DecodeGraphs.Counts before = graphs.counts();
                graphs.run(key, layers);
                DecodeGraphs.Counts after = graphs.counts();
                String did = after.captures() > before.captures() ? "capture" : after.replays() > before.replays() ? "replay"
                        : after.eager() > before.eager() ? "eager" : "nothing";
                assertEquals(want[step], did, target + " step " + step);
                float[] x = read(dev, s.x, T * D);
                for (int i = 0; i < T; i++) assertEquals(table[ids[step][i] * D], x[i * D], target + " step " + step + " row " + i);
                dev.toDevice(MemorySegment.ofArray(ids[step]), eager.ids, 4L * T);
                issue(dev, eager);
                assertArrayEquals(read(dev, eager.acc, T * N), read(dev, use.copy(), T * N), target + " step " + step + ": result");
            }
            graphs.close();
        }
    }
}
