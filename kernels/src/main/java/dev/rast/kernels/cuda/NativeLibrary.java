package dev.rast.kernels.cuda;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.SymbolLookup;
import java.lang.invoke.MethodHandle;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

/** A shared library opened with {@link SymbolLookup#libraryLookup}, and downcall handles to its functions. */
final class NativeLibrary {
    private static final Linker LINKER = Linker.nativeLinker();

    final String name;
    private final SymbolLookup lookup;

    private NativeLibrary(String name, SymbolLookup lookup) {
        this.name = name;
        this.lookup = lookup;
    }

    /**
     * Opens the first candidate that loads: a bare name goes through the dynamic loader's search path, a path
     * containing '/' is opened if the file exists. Empty when none loads.
     */
    static Optional<NativeLibrary> openFirst(List<String> candidates) {
        for (String c : candidates) {
            try {
                if (c.contains("/")) {
                    Path p = Path.of(c);
                    if (!Files.isRegularFile(p)) continue;
                    return Optional.of(new NativeLibrary(c, SymbolLookup.libraryLookup(p, Arena.global())));
                }
                return Optional.of(new NativeLibrary(c, SymbolLookup.libraryLookup(c, Arena.global())));
            } catch (IllegalArgumentException notLoadable) {
                // try the next one
            }
        }
        return Optional.empty();
    }

    Optional<MemorySegment> find(String symbol) { return lookup.find(symbol); }

    /** A downcall handle; a missing symbol means a library too old for rast, said in one line. */
    MethodHandle function(String symbol, FunctionDescriptor fd) {
        MemorySegment addr = lookup.find(symbol).orElseThrow(() -> new CudaUnavailableException(
                name + " has no function " + symbol + ": the library is too old for rast (it needs CUDA 11.8 or newer)"));
        return LINKER.downcallHandle(addr, fd);
    }

    /** Like {@link #function} but empty when the symbol is missing (optional functions). */
    Optional<MethodHandle> optionalFunction(String symbol, FunctionDescriptor fd) {
        return lookup.find(symbol).map(a -> LINKER.downcallHandle(a, fd));
    }
}
