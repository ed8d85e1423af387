package dev.rast.text.chat;

import com.hubspot.jinjava.Jinjava;
import com.hubspot.jinjava.JinjavaConfig;
import com.hubspot.jinjava.el.TruthyTypeConverter;
import java.util.Properties;
import jinjava.de.odysseus.el.ExpressionFactoryImpl;
import jinjava.de.odysseus.el.tree.TreeBuilder;
import jinjava.javax.el.ExpressionFactory;

/**
 * Jinjava whose expressions are parsed by {@link PyParser}: the same factory settings Jinjava makes for itself, with
 * our tree builder in place of its own.
 */
final class PyJinjava extends Jinjava {
    private volatile ExpressionFactory factory;

    PyJinjava(JinjavaConfig config) { super(config); }

    @Override
    public ExpressionFactory getExpressionFactory() {
        ExpressionFactory f = factory;
        if (f == null) {
            Properties p = new Properties();
            p.setProperty(TreeBuilder.class.getName(), PyParser.Builder.class.getName());
            p.setProperty(ExpressionFactoryImpl.PROP_CACHE_SIZE, "0");
            factory = f = new ExpressionFactoryImpl(p, new TruthyTypeConverter());
        }
        return f;
    }
}
