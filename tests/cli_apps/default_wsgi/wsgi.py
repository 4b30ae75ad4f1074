from erlen import Erlen

app = Erlen("default_wsgi")
