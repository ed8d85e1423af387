package dev.rast.analysis;

import java.util.Locale;

/**
 * One trajectory as a self-contained HTML page (the paper's Fig. 5): the prompt in grey, then each generated token
 * with its background shaded red by its KL(P ‖ Q), from none at 0 to the strongest shade at the page's largest KL
 * (kept light enough that black text stays readable); hovering a token shows its id and KL. Inline CSS only, no scripts or outside files, so it opens in any browser.
 */
public final class KlPage {
    /** The shade of the largest KL: opaque red would hide the text. */
    static final double MAX_ALPHA = 0.6;

    private KlPage() {}

    /**
     * {@code pieces[i]}: the text of token i as it reads in the completion (possibly empty when a character spans
     * tokens); {@code prompt}: the prompt as text.
     */
    public static String render(String title, String subtitle, String prompt, Trajectory t, String[] pieces, double[] kl) {
        double max = 0, sum = 0;
        for (double d : kl) {
            max = Math.max(max, d);
            sum += d;
        }
        StringBuilder b = new StringBuilder("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\n<title>")
                .append(html(title)).append("</title>\n<style>\n")
                .append("body{font-family:sans-serif;margin:2em;max-width:60em;line-height:1.6}\n")
                .append(".text{font-family:monospace;white-space:pre-wrap;word-wrap:break-word;border:1px solid #ccc;padding:1em}\n")
                .append(".prompt{color:#888}\n.t{border-radius:2px;box-shadow:inset -1px 0 0 rgba(0,0,0,0.08)}\n")
                .append(".scale{display:inline-block;width:12em;height:1em;vertical-align:middle;background:linear-gradient(to right,rgba(230,0,0,0),rgba(230,0,0,0.6))}\n")
                .append("</style></head><body>\n<h1>").append(html(title)).append("</h1>\n<p>").append(html(subtitle)).append("</p>\n")
                .append(String.format(Locale.ROOT, "<p>%d tokens, mean KL %.4g nats, largest %.4g. Shading: 0 <span class=\"scale\"></span> %.4g nats.</p>\n",
                        kl.length, kl.length == 0 ? 0 : sum / kl.length, max, max))
                .append("<div class=\"text\"><span class=\"prompt\">").append(html(prompt)).append("</span>");
        for (int i = 0; i < pieces.length; i++) {
            double a = max > 0 ? MAX_ALPHA * Math.min(1, kl[i] / max) : 0;
            b.append(String.format(Locale.ROOT, "<span class=\"t\" style=\"background:rgba(230,0,0,%.3f)\" title=\"token %d, id %d, KL %.4g\">",
                    a, i, t.tokens()[i], kl[i])).append(html(pieces[i])).append("</span>");
        }
        return b.append("</div>\n</body></html>\n").toString();
    }

    static String html(String s) {
        return s.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;").replace("\"", "&quot;");
    }
}
