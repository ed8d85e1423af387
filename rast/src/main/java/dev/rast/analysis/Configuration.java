package dev.rast.analysis;

import dev.rast.fusion.RastFusion;

/**
 * Which next-token distribution an analysis reads from the teacher-forced rows of M, E₁, B₁, E₂, B₂, ...: M's
 * fused with its pairs at given λs (RAST; M's own row when there are no pairs), or one model's row alone.
 */
public abstract sealed class Configuration {
    /** This configuration's logits, in {@code out} or one of {@code rows} (not to be modified). */
    public abstract float[] row(float[][] rows);

    /** Words for tables: "M + 1.0·(E1 − B1)", "model 3". */
    public abstract String describe();

    /** M with every pair at {@code lambdas[i]} (one per pair; none: M alone, its whole row). */
    public static Configuration fused(float[] lambdas, int vocab) { return new Fused(lambdas, vocab); }

    /** Model {@code index} of the rows, alone. */
    public static Configuration model(int index, String name) { return new Single(index, name); }

    static final class Fused extends Configuration {
        private final RastFusion fusion;
        private final float[] out;

        Fused(float[] lambdas, int vocab) {
            fusion = lambdas.length == 0 ? null : new RastFusion(lambdas);
            out = new float[vocab];
        }

        @Override
        public float[] row(float[][] rows) {
            if (fusion == null) return rows[0];
            int p = fusion.pairs();
            float[][] experts = new float[p][], bases = new float[p][];
            for (int i = 0; i < p; i++) {
                experts[i] = rows[1 + 2 * i];
                bases[i] = rows[2 + 2 * i];
            }
            return fusion.fuse(rows[0], experts, bases, out);
        }

        @Override
        public String describe() {
            if (fusion == null) return "M";
            boolean anyPair = false;
            for (int i = 0; i < fusion.pairs(); i++) anyPair |= fusion.lambda(i) != 0;
            if (!anyPair) return "M over the shared vocabulary"; // every λ 0: M with padding ids masked
            StringBuilder b = new StringBuilder("M");
            for (int i = 0; i < fusion.pairs(); i++)
                if (fusion.lambda(i) != 0) b.append(String.format(java.util.Locale.ROOT, " + %s·(E%d − B%d)", fusion.lambda(i), i + 1, i + 1));
            return b.toString();
        }
    }

    static final class Single extends Configuration {
        private final int index;
        private final String name;

        Single(int index, String name) {
            this.index = index;
            this.name = name;
        }

        @Override public float[] row(float[][] rows) { return rows[index]; }

        @Override public String describe() { return name; }
    }
}
