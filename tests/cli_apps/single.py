from erlen import Erlen

my_site = Erlen("single")
