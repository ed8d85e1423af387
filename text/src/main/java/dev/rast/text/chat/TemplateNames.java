package dev.rast.text.chat;

import com.hubspot.jinjava.Jinjava;
import java.util.Set;

/**
 * The filters and tests a chat template may name: Jinja2's built-in ones (and Hugging Face's tojson), where Jinjava
 * has them too. Jinja2 refuses a template naming any other; Jinjava would quietly evaluate it to nothing.
 */
final class TemplateNames implements JinjaSource.Names {
    /** jinja2.filters.FILTERS (Jinja2 3.1), with tojson, which HF replaces by its own. */
    static final Set<String> JINJA2_FILTERS = Set.of("abs", "attr", "batch", "capitalize", "center", "count", "d",
            "default", "dictsort", "e", "escape", "filesizeformat", "first", "float", "forceescape", "format", "groupby",
            "indent", "int", "items", "join", "last", "length", "list", "lower", "map", "max", "min", "pprint", "random",
            "reject", "rejectattr", "replace", "reverse", "round", "safe", "select", "selectattr", "slice", "sort",
            "string", "striptags", "sum", "title", "tojson", "trim", "truncate", "unique", "upper", "urlencode", "urlize",
            "wordcount", "wordwrap", "xmlattr");

    /** jinja2.tests.TESTS (Jinja2 3.1) that are names (its operator tests, such as '==', are not). */
    static final Set<String> JINJA2_TESTS = Set.of("boolean", "callable", "defined", "divisibleby", "eq", "equalto",
            "escaped", "even", "false", "filter", "float", "ge", "greaterthan", "gt", "in", "integer", "iterable", "le",
            "lessthan", "lower", "lt", "mapping", "ne", "none", "number", "odd", "sameas", "sequence", "string", "test",
            "true", "undefined", "upper");

    private final Jinjava jinjava;

    TemplateNames(Jinjava jinjava) { this.jinjava = jinjava; }

    @Override
    public String filterProblem(String name) {
        return problem("filter", JINJA2_FILTERS.contains(name), jinjava.getGlobalContext().getFilter(name) != null, name);
    }

    @Override
    public String testProblem(String name) {
        return problem("test", JINJA2_TESTS.contains(name), jinjava.getGlobalContext().getExpTest(name) != null, name);
    }

    private static String problem(String kind, boolean jinja2Has, boolean jinjavaHas, String name) {
        if (!jinja2Has) return "no " + kind + " named '" + name + "'";
        if (!jinjavaHas) return kind + " '" + name + "' is Jinja2's but not supported here (Jinjava, which renders templates, lacks it)";
        return null;
    }
}
