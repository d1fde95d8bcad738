package kittyspark.runtime.tokenizer.template;

import java.util.List;
import java.util.Map;

/** The {@code loop} variable of a for loop: index, index0, revindex, first, last, length, previtem, nextitem, cycle. */
final class LoopContext implements PyCallable {
    private final List<Object> items;
    private final int depth0;
    /** For a {@code recursive} loop, runs the loop body over children: {@code loop(item.children)}; else null. */
    private final PyCallable recurse;
    int index0;

    LoopContext(List<Object> items, int depth0, PyCallable recurse) {
        this.items = items;
        this.depth0 = depth0;
        this.recurse = recurse;
    }

    @Override
    public Object call(List<Object> args, Map<String, Object> kwargs) {
        if (recurse == null) {
            throw new TemplateException("the loop is not recursive: write {% for ... recursive %} to call loop(...)");
        }
        return recurse.call(args, kwargs);
    }

    Object attribute(String name) {
        int n = items.size();
        return switch (name) {
            case "index" -> (long) index0 + 1;
            case "index0" -> (long) index0;
            case "revindex" -> (long) (n - index0);
            case "revindex0" -> (long) (n - index0 - 1);
            case "first" -> index0 == 0;
            case "last" -> index0 == n - 1;
            case "length" -> (long) n;
            case "depth" -> (long) depth0 + 1;
            case "depth0" -> (long) depth0;
            case "previtem" -> index0 > 0 ? items.get(index0 - 1) : new Undefined("there is no previous item");
            case "nextitem" -> index0 + 1 < n ? items.get(index0 + 1) : new Undefined("there is no next item");
            case "cycle" -> (PyCallable) (args, kwargs) -> {
                if (args.isEmpty()) {
                    throw new TemplateException("no items for cycling given");
                }
                return args.get(index0 % args.size());
            };
            default -> Undefined.attribute(this, name);
        };
    }
}
