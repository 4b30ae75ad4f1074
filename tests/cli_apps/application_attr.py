from erlen import Erlen

application = Erlen("application_attr")
