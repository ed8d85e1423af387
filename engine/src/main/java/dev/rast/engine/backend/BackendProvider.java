package dev.rast.engine.backend;

import dev.rast.engine.BadInputException;
import java.util.ArrayList;
import java.util.List;
import java.util.ServiceLoader;

/** Finds backends through {@link ServiceLoader}, so a new backend is one module and one services file. */
public interface BackendProvider {
    /** Short name used on the command line: "cpu", "cuda". */
    String name();

    /** Whether this backend can run here (e.g. a GPU and driver are present); a reason otherwise. */
    String unavailableReason();

    Backend create(int threads);

    static List<BackendProvider> all() {
        List<BackendProvider> out = new ArrayList<>();
        ServiceLoader.load(BackendProvider.class).forEach(out::add);
        return out;
    }

    static Backend open(String name, int threads) {
        for (BackendProvider p : all()) {
            if (!p.name().equals(name)) continue;
            String why = p.unavailableReason();
            if (why != null) throw new BadInputException("--device " + name + ": not available here: " + why);
            return p.create(threads);
        }
        throw new BadInputException("--device " + name + ": unknown backend (have: "
                + all().stream().map(BackendProvider::name).toList() + ")");
    }
}
