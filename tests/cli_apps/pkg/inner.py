from erlen import Erlen

app = Erlen("pkg.inner")
