package dev.rast.text.chat;

import jinjava.de.odysseus.el.tree.Bindings;
import jinjava.de.odysseus.el.tree.impl.ast.AstBracket;
import com.hubspot.jinjava.interpret.JinjavaInterpreter;
import jinjava.de.odysseus.el.tree.impl.ast.AstDot;
import jinjava.de.odysseus.el.tree.impl.ast.AstIdentifier;
import jinjava.de.odysseus.el.tree.impl.ast.AstNode;
import jinjava.de.odysseus.el.tree.impl.ast.AstProperty;
import jinjava.javax.el.ELContext;
import jinjava.javax.el.ELException;
import jinjava.javax.el.PropertyNotFoundException;
import java.util.List;
import java.util.Map;

/**
 * Attribute and item lookups ({@code x.name}, {@code x[key]}) with Jinja2's undefined values. In Jinja2 a lookup
 * that finds nothing gives Undefined, which prints as nothing, tests as not defined, and raises UndefinedError on any
 * further lookup: {@code messages[5]} prints nothing, {@code messages[5].content} raises "'list object' has no element
 * 5". Jinjava has only null, so it printed nothing for both. Here each lookup records, for the lookup applied to its
 * result, whether it found anything; a lookup on a missing value raises with Jinja2's message. A value that is
 * present and None is not missing: {@code None.x} is Undefined in Jinja2 too, and only a lookup after it raises.
 */
final class Lookup {
    private Lookup() {}

    /**
     * What the lookup that just ended on this thread failed to find (Jinja2's message for it), or null when it found
     * a value. Read right after evaluating a {@link Dot} or {@link Bracket} prefix, whose last act is to set it.
     */
    private static final ThreadLocal<String> MISSING = new ThreadLocal<>();

    /** The variables the render on this thread was given, None-valued ones included (Jinjava drops those). */
    private static final ThreadLocal<java.util.Set<String>> GIVEN = new ThreadLocal<>();

    /** Starts ({@code names}) or ends (null) a render on this thread. */
    static void given(java.util.Set<String> names) {
        if (names == null) GIVEN.remove();
        else GIVEN.set(names);
        MISSING.remove();
    }

    /** The value of {@code node}'s lookup on {@code base}, recording whether it was found. */
    static Object eval(AstProperty node, AstNode prefix, Bindings bindings, ELContext context, PropertyReader reader) {
        Object base = prefix.eval(bindings, context);
        String prefixMissing = prefix instanceof Dot || prefix instanceof Bracket ? MISSING.get() : null;
        Object property = reader.property(bindings, context);
        if (base == null) {
            if (prefixMissing != null) throw new ELException(prefixMissing);
            if (prefix instanceof AstIdentifier id && !defined(id.getName()))
                throw new ELException("'" + id.getName() + "' is undefined");
            MISSING.set("'None' has no attribute '" + property + "'");
            return null;
        }
        context.setPropertyResolved(false);
        Object value = context.getELResolver().getValue(context, base, property);
        if (!context.isPropertyResolved())
            throw new PropertyNotFoundException("'" + typeName(base) + "' has no attribute '" + property + "'");
        MISSING.set(value == null && !present(base, property) ? missing(base, property) : null);
        return value;
    }

    /** Whether a name is bound in the render's scopes (as a variable, even to None, a loop name or a macro). */
    private static boolean defined(String name) {
        java.util.Set<String> given = GIVEN.get();
        if (given != null && given.contains(name)) return true;
        JinjavaInterpreter interpreter = JinjavaInterpreter.getCurrent();
        return interpreter == null || interpreter.getContext().containsKey(name);
    }

    /** Whether {@code base} holds {@code property} (as a present None value, when the lookup gave null). */
    private static boolean present(Object base, Object property) {
        if (base instanceof Map<?, ?> m) return m.containsKey(property) || m.containsKey(String.valueOf(property));
        if (base instanceof List<?> l && property instanceof Number n) {
            long i = n.longValue();
            return i >= -l.size() && i < l.size();
        }
        return false;
    }

    /** Jinja2's words for a failed lookup: "'list object' has no element 5", "'dict object' has no attribute 'x'". */
    private static String missing(Object base, Object property) {
        if (base instanceof List<?> && property instanceof Number) return "'list object' has no element " + property;
        return "'" + typeName(base) + "' has no attribute '" + property + "'";
    }

    private static String typeName(Object v) {
        return switch (v) {
            case Map<?, ?> m -> "dict object";
            case List<?> l -> "list object";
            case CharSequence s -> "str object";
            case Boolean b -> "bool object";
            case Long l -> "int object";
            case Integer i -> "int object";
            case Number n -> "float object";
            default -> v.getClass().getSimpleName() + " object";
        };
    }

    /** How a node gets its property: a name for {@code .name}, the evaluated key for {@code [key]}. */
    @FunctionalInterface
    interface PropertyReader {
        Object property(Bindings bindings, ELContext context);
    }

    static final class Dot extends AstDot {
        Dot(AstNode base, String property, boolean lvalue) { super(base, property, lvalue); }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            return Lookup.eval(this, prefix, bindings, context, this::getProperty);
        }
    }

    static final class Bracket extends AstBracket {
        Bracket(AstNode base, AstNode property, boolean lvalue, boolean strict) { super(base, property, lvalue, strict, false); }

        @Override
        public Object eval(Bindings bindings, ELContext context) {
            return Lookup.eval(this, prefix, bindings, context, this::getProperty);
        }
    }
}
