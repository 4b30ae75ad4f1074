from erlen import Erlen

app = Erlen("app_attr")
other = Erlen("other")  # 'app' wins over the other instance
