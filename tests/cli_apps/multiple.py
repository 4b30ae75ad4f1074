from erlen import Erlen

one = Erlen("one")
two = Erlen("two")
