package dev.rast.analysis;

import dev.rast.engine.BadInputException;
import dev.rast.engine.JavaHeap;
import dev.rast.engine.model.Batch;
import dev.rast.engine.model.CausalLM;
import dev.rast.engine.model.KvCache;
import dev.rast.engine.tensor.Tensor;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

/**
 * Teacher forcing: every model of a set reads given trajectories (prompt, then the generated tokens) and reports,
 * for each generated token tᵢ, the logits it had for that position, i.e. after the prompt and t₁..tᵢ₋₁. No
 * sampling: the path is fixed, so each model's logits of a whole trajectory come from prefill-like passes.
 *
 * <p>Cost: a pass takes up to {@code rowsPerPass} tokens, drawn from as many trajectories as needed (several short
 * ones, or the next slice of a long one on its KV cache), so every weight matrix is read once per pass instead of
 * once per token as in decoding. The LM head runs only on the rows whose logits are wanted. Logits of 1,000
 * positions of a 152k vocabulary would be 600 MB; in slices of 128 rows each model holds 78 MB on the host.
 *
 * <p>Models are given in the order M, E₁, B₁, ... (any list); the visitor receives one row per model.
 */
public final class TeacherForcing {
    /** Receives the logits of one position of one trajectory; positions of a trajectory arrive in order. */
    public interface Visitor {
        /**
         * Position {@code index} (0-based over the trajectory's tokens: the logits that predicted
         * {@code tokens[index]}); {@code rows[m]} is model m's logits row, reused after the call returns.
         */
        void position(int trajectory, int index, float[][] rows);

        /** All positions of {@code trajectory} were seen. */
        default void finished(int trajectory) {}
    }

    /** Rows per pass when none is given: 128 × 152k logits are 78 MB a model. */
    public static final int DEFAULT_ROWS = 128;

    private final List<CausalLM> models;
    private final int rowsPerPass;

    public TeacherForcing(List<CausalLM> models, int rowsPerPass) {
        if (models.isEmpty()) throw new IllegalArgumentException("no models");
        if (rowsPerPass < 1) throw new IllegalArgumentException("rows per pass must be at least 1, is " + rowsPerPass);
        this.models = List.copyOf(models);
        this.rowsPerPass = rowsPerPass;
        checkLogitsFit(rowsPerPass);
    }

    /**
     * A pass keeps every model's logits of its rows on the Java heap ({@link #run}): refused up front, naming the
     * option, when they would not fit (one model's must also fit in one array).
     */
    private void checkLogitsFit(int rows) {
        double bytes = 0;
        for (CausalLM m : models) {
            int V = m.config().vocabSize();
            if ((long) rows * V > Integer.MAX_VALUE - 8)
                throw new BadInputException("--rows-per-pass " + rows + " × " + V + " logits is more than one array holds: lower --rows-per-pass");
            bytes += 4.0 * rows * V;
        }
        JavaHeap.require(bytes, "--rows-per-pass " + rows + " (every model's logits of a pass)", "lower --rows-per-pass");
    }

    /** A trajectory being read: its tokens to feed and how many are in its caches. */
    private final class Reader {
        final int index;
        final int[] input;       // prompt, then every generated token but the last (nothing reads its logits)
        final int firstWanted;   // input position whose logits predict tokens[0]: the prompt's last
        final KvCache[] caches;
        int fed;

        Reader(int index, Trajectory t) {
            this.index = index;
            input = new int[t.prompt().length + t.tokens().length - 1];
            System.arraycopy(t.prompt(), 0, input, 0, t.prompt().length);
            System.arraycopy(t.tokens(), 0, input, t.prompt().length, t.tokens().length - 1);
            firstWanted = t.prompt().length - 1;
            caches = new KvCache[models.size()];
            try {
                for (int m = 0; m < caches.length; m++) caches[m] = models.get(m).newCache(input.length);
            } catch (RuntimeException | Error e) {
                close();
                throw e;
            }
        }

        boolean done() { return fed == input.length; }

        void close() { for (KvCache c : caches) if (c != null) c.close(); }
    }

    /** One reader's share of a pass: its next {@code rows} tokens, logits for the last {@code logits} of them. */
    private record Slice(Reader reader, int from, int rows, int logits) {}

    /** Feeds every trajectory to every model and hands each position's rows to {@code visitor}. */
    public void run(List<Trajectory> trajectories, Visitor visitor) {
        int M = models.size();
        float[][] logits = new float[M][];
        float[][] rows = new float[M][];
        for (int m = 0; m < M; m++) {
            int V = models.get(m).config().vocabSize();
            logits[m] = new float[Math.multiplyExact(rowsPerPass, V)];
            rows[m] = new float[V];
        }
        List<Reader> live = new ArrayList<>();
        int next = 0;
        try {
            while (!live.isEmpty() || next < trajectories.size()) {
                List<Slice> slices = new ArrayList<>();
                int budget = rowsPerPass;
                for (int r = 0; budget > 0; r++) {
                    if (r == live.size()) {
                        if (next == trajectories.size()) break;
                        live.add(new Reader(next, trajectories.get(next)));
                        next++;
                    }
                    Reader rd = live.get(r);
                    int take = Math.min(budget, rd.input.length - rd.fed);
                    int end = rd.fed + take;
                    slices.add(new Slice(rd, rd.fed, take, Math.max(0, end - Math.max(rd.fed, rd.firstWanted))));
                    budget -= take;
                }
                int wanted = 0;
                for (Slice s : slices) wanted += s.logits();
                for (int m = 0; m < M; m++) forward(m, slices, wanted, logits[m]);
                int row = 0;
                for (Slice s : slices) {
                    int firstIndex = s.from() + s.rows() - s.logits() - s.reader().firstWanted;
                    for (int i = 0; i < s.logits(); i++, row++) {
                        for (int m = 0; m < M; m++)
                            System.arraycopy(logits[m], row * rows[m].length, rows[m], 0, rows[m].length);
                        visitor.position(s.reader().index, firstIndex + i, rows);
                    }
                    s.reader().fed += s.rows();
                }
                for (var it = live.iterator(); it.hasNext(); ) {
                    Reader rd = it.next();
                    if (!rd.done()) continue;
                    rd.close();
                    it.remove();
                    visitor.finished(rd.index);
                }
            }
        } finally {
            for (Reader rd : live) rd.close();
        }
    }

    /** Model {@code m} runs every slice of the pass; its {@code wanted} logits rows land in {@code out}. */
    private void forward(int m, List<Slice> slices, int wanted, float[] out) {
        CausalLM model = models.get(m);
        Batch.Chunk[] chunks = new Batch.Chunk[slices.size()];
        for (int i = 0; i < chunks.length; i++) {
            Slice s = slices.get(i);
            int[] tokens = java.util.Arrays.copyOfRange(s.reader().input, s.from(), s.from() + s.rows());
            chunks[i] = new Batch.Chunk(s.reader().caches[m], tokens, s.logits());
        }
        Tensor l = model.forward(new Batch(chunks));
        if (wanted > 0)
            model.backend().download(l, MemorySegment.ofArray(out).asSlice(0, (long) wanted * model.config().vocabSize() * Float.BYTES));
    }
}
