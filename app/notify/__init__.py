"""Alert channels behind one small Protocol, and the delivery bookkeeping that drives them."""
